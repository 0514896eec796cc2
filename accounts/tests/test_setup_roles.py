"""`manage.py setup_roles`: the role groups with exactly their permissions, safe to run again,
keeping what staff granted since."""

import pytest
from django.contrib.auth.models import Group, Permission

from accounts.services import ROLES
from accounts.tests.commands import run

pytestmark = pytest.mark.django_db


def group_codenames(name: str) -> set[str]:
    return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))


def expected_codenames(role: str) -> set[str]:
    return {
        action if "_" in action else f"{action}_{model.split('.')[1]}"
        for model, actions in ROLES[role].items()
        for action in actions
    }


def test_setup_roles_creates_each_role_with_exactly_its_permissions():
    run("setup_roles")

    assert set(Group.objects.values_list("name", flat=True)) == set(ROLES)
    for role in ROLES:
        assert group_codenames(role) == expected_codenames(role), role


def test_setup_roles_grants_the_documented_permissions():
    run("setup_roles")

    assert group_codenames("clinician") == {
        "view_patient",
        "add_patient",
        "change_patient",
        "delete_patient",
        "view_notification",
        "add_notification",
    }
    assert group_codenames("front_desk") == {
        "view_patient",
        "add_patient",
        "change_patient",
        "view_notification",
        "add_notification",
    }
    assert group_codenames("auditor") == {
        "view_patient",
        "view_notification",
        "view_accessrecord",
    }
    assert group_codenames("data_manager") == {"export_patients"}


def test_a_role_gets_a_models_own_permission_by_its_codename():
    run("setup_roles")

    permission = Group.objects.get(name="data_manager").permissions.get()
    assert (permission.content_type.app_label, permission.codename) == (
        "exports",
        "export_patients",
    )


def test_setup_roles_twice_changes_nothing():
    run("setup_roles")
    first = {role: group_codenames(role) for role in ROLES}

    run("setup_roles")

    assert Group.objects.count() == len(ROLES)
    assert {role: group_codenames(role) for role in ROLES} == first


def test_setup_roles_keeps_a_permission_staff_added_to_a_group():
    run("setup_roles")
    front_desk = Group.objects.get(name="front_desk")
    front_desk.permissions.add(Permission.objects.get(codename="delete_patient"))

    run("setup_roles")

    assert "delete_patient" in group_codenames("front_desk")


def test_setup_roles_restores_a_permission_removed_from_a_group():
    run("setup_roles")
    Group.objects.get(name="auditor").permissions.clear()

    run("setup_roles")

    assert group_codenames("auditor") == expected_codenames("auditor")


def test_setup_roles_prints_each_role():
    output = run("setup_roles")

    assert [line.split(":")[0] for line in output.splitlines()] == list(ROLES)
