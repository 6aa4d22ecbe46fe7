"""Authentication endpoints: ``POST /api/v1/auth/token/`` and ``GET /api/v1/auth/me/``."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.authtoken.models import Token
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .lockout import locked_out_message
from .serializers import TokenRequestSerializer, TokenResponseSerializer


class TokenView(APIView):
    """Exchange a username and password for an API token.

    Failed attempts count towards the same lockout as the login page
    (django-axes, per username and address).
    """

    permission_classes = [permissions.AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenResponseSerializer})
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # axes needs the Django HttpRequest to record the attempt.
        try:
            user = authenticate(
                request._request,
                username=serializer.validated_data["username"],
                password=serializer.validated_data["password"],
            )
        except PermissionDenied:
            # django-axes: too many failures for this username from this address.
            return Response({"detail": locked_out_message()}, status=status.HTTP_403_FORBIDDEN)
        if user is None or not user.is_active:
            return Response(
                {"detail": _("Wrong username or password.")}, status=status.HTTP_400_BAD_REQUEST
            )
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
