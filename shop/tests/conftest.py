import pytest


@pytest.fixture
def admin_client(client, staff_user):
    """The admin as a staff superuser (the `staff_user` the services record as actor)."""
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    return client
