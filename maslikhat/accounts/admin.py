from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .forms import PortalUserChangeForm, PortalUserCreationForm
from .models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    # Usernames are stored in their canonical spelling (lower case, no surrounding spaces).
    form = PortalUserChangeForm
    add_form = PortalUserCreationForm
    list_display = ("username", "last_name", "first_name", "role", "email", "is_active")
    list_filter = ("role", "is_active", "is_staff", "language")
    search_fields = ("username", "last_name", "first_name", "email")
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("Portal"), {"fields": ("role", "middle_name", "language", "phone", "email_reminders")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Portal"), {"fields": ("role", "last_name", "first_name", "email")}),
    )
