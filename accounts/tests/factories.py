"""factory_boy factories for staff users.

`UserFactory(role="front_desk")` puts the user in one of the role groups that
`accounts.services.roles_setup()` makes (it runs it first when the groups are missing);
`staff=True` and `superuser=True` give the admin's flags. Users get no usable password
unless one is passed: `UserFactory(password="correct horse battery")` stores it hashed.
"""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from accounts.services import roles_setup


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@clinic.example")

    class Params:
        staff = factory.Trait(is_staff=True)
        superuser = factory.Trait(is_staff=True, is_superuser=True)

    @classmethod
    def _create(cls, model_class, *args, password=None, **kwargs):
        # create_user hashes the password, or makes it unusable when there is none.
        return model_class.objects.create_user(*args, password=password, **kwargs)

    @factory.post_generation
    def role(user, create, extracted, **kwargs):
        """The name of a role group (clinician, front_desk, auditor), or None for no role."""
        if not extracted:
            return
        if not Group.objects.filter(name=extracted).exists():
            roles_setup()
        user.groups.add(Group.objects.get(name=extracted))
