"""A user's API tokens are revoked when their password changes, when they are deactivated, and
when they lose their last role.

These are signal receivers rather than steps of a service because users change along many
paths that no service of ours sits on: the admin's user form, its password-change form and the
group page's member list, `manage.py changepassword`, Django's password-reset views, and the
shell. Receivers on the user model see every one of them.
"""

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

from accounts.tokens import user_tokens_revoke, user_tokens_revoke_if_roleless


def _revocation_reason(user, update_fields) -> str | None:
    """Why saving this user revokes their tokens (compared with the stored row), or None."""
    if user._state.adding or user.pk is None:
        return None
    stored = type(user).objects.filter(pk=user.pk).values("password", "is_active").first()
    if stored is None:
        return None
    fields = set(update_fields) if update_fields is not None else None
    if (fields is None or "password" in fields) and user.password != stored["password"]:
        return "password changed"
    if (fields is None or "is_active" in fields) and stored["is_active"] and not user.is_active:
        return "deactivated"
    return None


def _note_revocation(sender, instance, raw=False, update_fields=None, **kwargs):
    if not raw:
        instance._tokens_revocation_reason = _revocation_reason(instance, update_fields)


def _revoke_after_save(sender, instance, created, raw=False, **kwargs):
    reason = getattr(instance, "_tokens_revocation_reason", None)
    if reason is not None:
        instance._tokens_revocation_reason = None
        user_tokens_revoke(user_id=instance.pk, reason=reason)


def _check_roles_on_commit(user_ids) -> None:
    # After the commit, not at once: the admin replaces a user's groups by removing the old
    # ones and then adding the new, and in between the user has none.
    for user_id in set(user_ids):
        transaction.on_commit(functools.partial(user_tokens_revoke_if_roleless, user_id=user_id))


def _groups_changed(sender, instance, action, reverse, pk_set, **kwargs):
    user_model = get_user_model()
    if not reverse:  # user.groups.remove/clear/set
        if action in ("post_remove", "post_clear") and isinstance(instance, user_model):
            _check_roles_on_commit([instance.pk])
    elif action == "pre_clear":  # group.user_set.clear(): who is in it, before
        instance._members_before_clear = list(instance.user_set.values_list("pk", flat=True))
    elif action == "post_clear":
        _check_roles_on_commit(getattr(instance, "_members_before_clear", []))
    elif action == "post_remove":
        _check_roles_on_commit(pk_set or [])


def _group_deleting(sender, instance, **kwargs):
    instance._members_before_delete = list(instance.user_set.values_list("pk", flat=True))


def _group_deleted(sender, instance, **kwargs):
    _check_roles_on_commit(getattr(instance, "_members_before_delete", []))


def connect() -> None:
    user_model = get_user_model()
    pre_save.connect(_note_revocation, sender=user_model, dispatch_uid="accounts-tokens-note")
    post_save.connect(_revoke_after_save, sender=user_model, dispatch_uid="accounts-tokens-save")
    m2m_changed.connect(
        _groups_changed, sender=user_model.groups.through, dispatch_uid="accounts-tokens-roles"
    )
    pre_delete.connect(_group_deleting, sender=Group, dispatch_uid="accounts-group-deleting")
    post_delete.connect(_group_deleted, sender=Group, dispatch_uid="accounts-group-deleted")
