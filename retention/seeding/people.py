"""
The demo people: nine users in three teams who log in with one published password, and the
bench's extra account managers. Created or reset on every run, so a seeding run is also the way
to get back in after the password was changed.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from customers.models import Team

DEFAULT_PASSWORD = "retention-demo"

# username, first name, last name, role
DEMO_USERS = [
    ("admin", "Alex", "Admin", "admin"),
    ("manager1", "Maria", "Lopez", "manager"),
    ("manager2", "Martin", "Okafor", "manager"),
    ("am1", "Anna", "Berg", "account manager"),
    ("am2", "Ben", "Carter", "account manager"),
    ("am3", "Chloe", "Dubois", "account manager"),
    ("am4", "David", "Evans", "account manager"),
    ("am5", "Emma", "Fischer", "account manager"),
    ("am6", "Farid", "Ghani", "account manager"),
]
DEMO_USERNAMES = [username for username, *_ in DEMO_USERS]
# How the banners name them all.
DEMO_USERS_SUMMARY = "admin, manager1, manager2, am1 … am6"

# team name: (members, managers, share of the customers)
DEMO_TEAMS = {
    "North": (["am1", "am2"], ["manager1"], 0.36),
    "South": (["am3", "am4"], ["manager1"], 0.34),
    "West": (["am5", "am6"], ["manager2"], 0.30),
}

BENCH_USER_PREFIX = "bench-am-"


def demo_users_ensure(*, password):
    """The demo users by username, created or reset (names, roles, password) on every run."""
    # One hash for all nine: they share a published password anyway, and hashing is the slow part.
    encoded = make_password(password)
    users = {}
    for username, first_name, last_name, role in DEMO_USERS:
        users[username], _ = get_user_model().objects.update_or_create(
            username=username,
            defaults={
                "first_name": first_name, "last_name": last_name,
                "email": f"{username}@example.com", "password": encoded, "is_active": True,
                "is_staff": role == "admin", "is_superuser": role == "admin",
            },
        )
    return users


def demo_teams_ensure(*, users):
    """The demo teams by name, with their members and managers added (never removed)."""
    teams = {}
    for name, (members, managers, _share) in DEMO_TEAMS.items():
        teams[name], _ = Team.objects.get_or_create(name=name)
        teams[name].members.add(*(users[u] for u in members))
        teams[name].managers.add(*(users[u] for u in managers))
    return teams


def demo_roles(teams):
    """{username: the role shown next to the login}, in the order of ``DEMO_USERS``."""
    roles = {"admin": "admin (superuser)"}
    managed = {}
    for name in teams:
        for username in DEMO_TEAMS[name][1]:
            managed.setdefault(username, []).append(name)
        for username in DEMO_TEAMS[name][0]:
            roles[username] = f"account manager: {name}"
    roles.update((username, "manager: " + ", ".join(names)) for username, names in managed.items())
    return {username: roles[username] for username in DEMO_USERNAMES}


def bench_users_ensure(*, teams, count, password):
    """``bench-am-001`` …, spread over the demo teams as members: {team name: [user ids]}."""
    User = get_user_model()
    names = list(teams)
    wanted = [f"{BENCH_USER_PREFIX}{n:03d}" for n in range(1, count + 1)]
    existing = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    encoded = make_password(password)
    User.objects.bulk_create([
        User(username=username, first_name="Bench", last_name=f"AM {username[-3:]}",
             email=f"{username}@example.com", password=encoded)
        for username in wanted if username not in existing
    ])
    User.objects.filter(username__in=wanted).update(password=encoded, is_active=True)
    pks = dict(User.objects.filter(username__in=wanted).values_list("username", "pk"))
    by_team = {name: [] for name in names}
    memberships = []
    for index, username in enumerate(wanted):
        team = names[index % len(names)]
        by_team[team].append(pks[username])
        memberships.append(Team.members.through(team_id=teams[team].pk, user_id=pks[username]))
    Team.members.through.objects.bulk_create(memberships, ignore_conflicts=True)
    return by_team
