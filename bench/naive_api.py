"""The baseline: what a typical first DRF implementation of the contact list looks like.

A ``ModelViewSet`` over ``Contact.objects.all()`` with ``fields = "__all__"``, nested company and
owner, page-number pagination and no ``select_related``/``prefetch_related``: one query for the
page, a COUNT, then a company, an owner and a tags query per row (the N+1). Same authentication,
permissions and throttling as the real API (the project's DRF defaults). Mounted only by
``bench.urls`` at /bench/naive/contacts/.
"""

from django.contrib.auth import get_user_model
from rest_framework import pagination, routers, serializers, viewsets

from customers.models import Company, Contact


class NaiveCompanySerializer(serializers.ModelSerializer):
    class Meta:
        model = Company
        fields = ["id", "name"]


class NaiveOwnerSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username"]


class NaiveContactSerializer(serializers.ModelSerializer):
    company = NaiveCompanySerializer(read_only=True)
    owner = NaiveOwnerSerializer(read_only=True)

    class Meta:
        model = Contact
        fields = "__all__"


class NaivePagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000


class NaiveContactViewSet(viewsets.ModelViewSet):
    queryset = Contact.objects.all()
    serializer_class = NaiveContactSerializer
    pagination_class = NaivePagination
    scope_resource = "contacts"  # the project's ScopePermission: contacts:read + view_contact


router = routers.SimpleRouter()
router.register("contacts", NaiveContactViewSet, basename="naive-contact")
urlpatterns = router.urls
