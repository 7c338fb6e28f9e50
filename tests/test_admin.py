"""The admin's pages of the app's models, each registered by its domain (conversations and
messages by review): every one opens for a superuser."""

import pytest
from django.contrib import admin

from conversations import admin as app_admin
from conversations.accounts.models import Invite
from conversations.catalog.models import ModelInfo
from conversations.limits.models import DailyTokens, TokenQuota
from conversations.models import Conversation, Message
from conversations.personas.models import Persona

pytestmark = pytest.mark.django_db
MODELS = [Invite, ModelInfo, TokenQuota, DailyTokens, Persona, Conversation, Message]


def test_each_domain_registers_its_models():
    for model in MODELS:
        assert admin.site.is_registered(model), model.__name__
    registered = {
        Invite: app_admin.accounts_admin.InviteAdmin,
        ModelInfo: app_admin.catalog_admin.ModelInfoAdmin,
        TokenQuota: app_admin.limits_admin.TokenQuotaAdmin,
        DailyTokens: app_admin.limits_admin.DailyTokensAdmin,
        Persona: app_admin.personas_admin.PersonaAdmin,
    }
    for model, model_admin in registered.items():
        assert type(admin.site.get_model_admin(model)) is model_admin


def test_every_page_opens_for_a_superuser(admin_client):
    for model in MODELS:
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert admin_client.get(url).status_code == 200, url
