"""``{{ user|person }}``: a person's full name, else their username; ``—`` or a given word for nobody."""

from django import template

register = template.Library()


@register.filter
def person(user, nobody="—"):
    if user is None:
        return nobody
    return user.get_full_name() or user.get_username()
