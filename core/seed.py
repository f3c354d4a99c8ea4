"""Feature flags, all on in the demo shop."""

from waffle.models import Flag

FEATURE_FLAGS = {
    "support_chat": "Support chat over REST and websockets.",
    "reviews": "Product reviews.",
    "otp_login": "Login with a one-time code by SMS.",
    "social_login": "Login with Google, Facebook and Instagram.",
}


def seed(ctx) -> None:
    for name, note in FEATURE_FLAGS.items():
        Flag.objects.update_or_create(name=name, defaults={"everyone": True, "note": note})
    ctx.say(f"feature flags on: {', '.join(FEATURE_FLAGS)}")
