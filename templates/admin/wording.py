"""Django admin phrases re-worded for Russian, in the project catalog (locale/ru).

Django's admin builds phrases by putting a model's name into a sentence:
"Select %s to change", "Add %(name)s", "The {name} “{obj}” was added
successfully." Its Russian catalog translates them as "Выберите %s для
изменения", "Добавить %(name)s"…, which need the name in the accusative
("Выберите пользователя"), while a model's verbose_name is in the nominative:
the admin printed "Выберите пользователь", "ДОБАВИТЬ ОРГАНИЗАЦИЯ". Our project
catalog comes first (LOCALE_PATHS), so these msgids get Russian wording that
reads right with any nominative name: "Выбор объекта для изменения:
пользователь", "Добавить: организация".

This module is never imported: it only lists the msgids so that makemessages
(``scripts/messages.py templates``) keeps them in locale/ru/LC_MESSAGES/django.po.
It sits beside the admin templates it re-words because the project catalog is
made from templates/ (makemessages skips locale/ folders).
"""

from django.utils.translation import gettext_noop, ngettext


def _phrases() -> None:
    # django.contrib.admin (views/main.py, options.py, actions.py, templates)
    gettext_noop("Select %s")
    gettext_noop("Select %s to change")
    gettext_noop("Select %s to view")
    gettext_noop("Add %s")
    gettext_noop("Change %s")
    gettext_noop("View %s")
    gettext_noop("Add %(name)s")
    gettext_noop("Add another %(verbose_name)s")
    gettext_noop("Delete selected %(verbose_name_plural)s")
    gettext_noop("Successfully deleted %(count)d %(items)s.")
    gettext_noop("Cannot delete %(name)s")
    gettext_noop("The %(name)s “%(obj)s” was deleted successfully.")
    gettext_noop("%(name)s with ID “%(key)s” doesn’t exist. Perhaps it was deleted?")
    gettext_noop("The {name} “{obj}” was added successfully.")
    gettext_noop("The {name} “{obj}” was changed successfully.")
    gettext_noop("The {name} “{obj}” was added successfully. You may add another {name} below.")
    gettext_noop("The {name} “{obj}” was changed successfully. You may edit it again below.")
    gettext_noop("The {name} “{obj}” was changed successfully. You may add another {name} below.")
    gettext_noop("Added {name} “{object}”.")
    gettext_noop("Changed {fields} for {name} “{object}”.")
    gettext_noop("Deleted {name} “{object}”.")
    gettext_noop(
        'Are you sure you want to delete the %(object_name)s "%(escaped_object)s"? '
        "All of the following related items will be deleted:"
    )
    gettext_noop(
        "Are you sure you want to delete the selected %(objects_name)s? "
        "All of the following objects and their related items will be deleted:"
    )
    ngettext("%(count)s %(name)s was changed successfully.", "%(count)s %(name)s were changed successfully.", 0)
    # django-celery-beat: its app name is title-cased in Russian ("Периодические Задачи")
    gettext_noop("Periodic Tasks")
