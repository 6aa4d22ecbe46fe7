from __future__ import annotations

from rest_framework import serializers

from .models import canonical_username


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)

    def validate_username(self, value: str) -> str:
        """Usernames do not depend on letter case or surrounding spaces (as on the login page)."""
        return canonical_username(value)


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
