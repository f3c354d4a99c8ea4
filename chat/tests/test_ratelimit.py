from chat.ratelimit import TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_refills_gradually():
    clock = FakeClock()
    bucket = TokenBucket(capacity=3, period=6, clock=clock)  # one token every 2 s

    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    assert bucket.retry_after() == 2.0

    clock.now += 1.0
    assert bucket.take() is False
    assert bucket.retry_after() == 1.0

    clock.now += 1.0
    assert bucket.take() is True
    assert bucket.take() is False


def test_bucket_never_holds_more_than_its_capacity():
    clock = FakeClock()
    bucket = TokenBucket(capacity=2, period=2, clock=clock)

    clock.now += 3600
    assert [bucket.take() for _ in range(3)] == [True, True, False]
