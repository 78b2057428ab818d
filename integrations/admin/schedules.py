"""django-celery-beat's periodic tasks, with the permissions their actions need."""

from django.contrib import admin
from django_celery_beat.admin import PeriodicTaskAdmin as BeatPeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask

from customers.admin.base import with_permission

admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(BeatPeriodicTaskAdmin):
    """django-celery-beat's admin, whose actions declare no permission: anyone who may view the
    schedules could enable, disable or run them. Each now needs the change permission."""

    enable_tasks = with_permission("change", BeatPeriodicTaskAdmin.enable_tasks)
    disable_tasks = with_permission("change", BeatPeriodicTaskAdmin.disable_tasks)
    toggle_tasks = with_permission("change", BeatPeriodicTaskAdmin.toggle_tasks)
    run_tasks = with_permission("change", BeatPeriodicTaskAdmin.run_tasks)
