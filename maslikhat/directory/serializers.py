from __future__ import annotations

from rest_framework import serializers

from maslikhat.accounts.models import User

from .models import Category, Commission, Convocation, Department, Deputy, District


class TranslatedNameSerializer(serializers.ModelSerializer):
    """``name`` in the request's language plus the three stored versions."""

    name = serializers.CharField(read_only=True)


class ConvocationSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)

    class Meta:
        model = Convocation
        fields = ["id", "number", "name", "elected_on", "ends_on", "is_current"]


class DistrictSerializer(TranslatedNameSerializer):
    class Meta:
        model = District
        fields = ["id", "code", "name", "name_ru", "name_kk", "name_en"]


class CommissionSerializer(TranslatedNameSerializer):
    chair: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Commission
        fields = [
            "id",
            "code",
            "name",
            "name_ru",
            "name_kk",
            "name_en",
            "convocation",
            "chair",
            "order",
        ]


class DepartmentSerializer(TranslatedNameSerializer):
    class Meta:
        model = Department
        fields = [
            "id",
            "code",
            "kind",
            "name",
            "name_ru",
            "name_kk",
            "name_en",
            "district",
            "is_active",
        ]


class CategorySerializer(TranslatedNameSerializer):
    class Meta:
        model = Category
        fields = [
            "id",
            "code",
            "name",
            "name_ru",
            "name_kk",
            "name_en",
            "commission_code",
            "default_department",
            "route_to_district_akimat",
            "auto_route",
        ]


class DeputySerializer(serializers.ModelSerializer):
    """A deputy's public card: no contact details of the person."""

    name = serializers.CharField(read_only=True)
    party: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    party_name = serializers.CharField(source="party.name", read_only=True)
    commissions: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )

    class Meta:
        model = Deputy
        fields = [
            "id",
            "name",
            "party",
            "party_name",
            "mandate",
            "electoral_district",
            "district",
            "commissions",
            "convocation",
            "is_active",
        ]


class MeSerializer(serializers.ModelSerializer):
    """The current user as ``/api/v1/auth/me/`` returns it (fields fixed by the API contract)."""

    full_name = serializers.CharField(read_only=True)
    department = serializers.SerializerMethodField()
    deputy = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "role", "department", "deputy", "language"]

    def get_department(self, user: User) -> int | None:
        return self.context.get("department_id")

    def get_deputy(self, user: User) -> int | None:
        return self.context.get("deputy_id")
