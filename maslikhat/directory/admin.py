from django.contrib import admin

from .models import (
    Category,
    Commission,
    Convocation,
    Department,
    DepartmentMember,
    Deputy,
    District,
    Party,
)

NAME_FIELDS = ("name_ru", "name_kk", "name_en")


@admin.register(Convocation)
class ConvocationAdmin(admin.ModelAdmin):
    list_display = ("number", "elected_on", "ends_on", "is_current")


@admin.register(Party)
class PartyAdmin(admin.ModelAdmin):
    list_display = ("code", *NAME_FIELDS)
    search_fields = ("code", *NAME_FIELDS)


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ("code", *NAME_FIELDS)
    search_fields = ("code", *NAME_FIELDS)


@admin.register(Commission)
class CommissionAdmin(admin.ModelAdmin):
    list_display = ("code", "name_ru", "convocation", "chair", "order")
    list_filter = ("convocation",)
    search_fields = ("code", *NAME_FIELDS)
    autocomplete_fields = ("chair",)


class DepartmentMemberInline(admin.TabularInline):
    model = DepartmentMember
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name_ru", "kind", "district", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", *NAME_FIELDS)
    inlines = [DepartmentMemberInline]


@admin.register(DepartmentMember)
class DepartmentMemberAdmin(admin.ModelAdmin):
    list_display = ("user", "department", "position", "is_active")
    list_filter = ("position", "is_active", "department__kind")
    search_fields = ("user__username", "user__last_name", "department__code", "department__name_ru")
    autocomplete_fields = ("user", "department")
    list_select_related = ("user", "department")


@admin.register(Deputy)
class DeputyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "party", "mandate", "district", "convocation", "is_active")
    list_filter = ("convocation", "party", "mandate", "is_active", "commissions")
    search_fields = ("user__last_name", "user__first_name", "user__username")
    autocomplete_fields = ("user",)
    filter_horizontal = ("commissions",)
    list_select_related = ("user", "party", "district", "convocation")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name_ru", "commission_code", "default_department", "auto_route")
    list_filter = ("auto_route", "route_to_district_akimat")
    search_fields = ("code", *NAME_FIELDS)
