"""
The survey results' tallies: counts PostgreSQL keeps as invitations and answers are written
(``surveys/tallies.py``, which makes the tables and their triggers: none on SQLite). Django
reads them only, so the models are unmanaged. 0 stands for no team, account manager or campaign.
"""

from django.conf import settings
from django.db import models


class Tally(models.Model):
    """What every tally is counted by: the book (team, account manager) and the campaign."""

    team = models.ForeignKey("customers.Team", on_delete=models.DO_NOTHING, db_constraint=False,
                             related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False,
                              related_name="+")
    campaign = models.ForeignKey("surveys.Campaign", on_delete=models.DO_NOTHING, db_constraint=False,
                                 related_name="+")

    class Meta:
        abstract = True
        managed = False


class AnswerTally(Tally):
    """Answers by book, kind, score, local month and campaign."""

    pk = models.CompositePrimaryKey("team_id", "owner_id", "kind", "score", "category", "month",
                                    "campaign_id")
    kind = models.CharField(max_length=10)
    score = models.SmallIntegerField()
    category = models.CharField(max_length=10)
    month = models.DateField()
    answers = models.IntegerField()

    class Meta:
        managed = False
        db_table = "surveys_answer_tally"

    def __str__(self):
        return f"{self.answers} × {self.kind} {self.score} in {self.month:%Y-%m}"


class InvitationTally(Tally):
    """Invitations sent, opened and answered by book and campaign."""

    pk = models.CompositePrimaryKey("team_id", "owner_id", "campaign_id")
    sent = models.IntegerField()
    opened = models.IntegerField()
    answered = models.IntegerField()

    class Meta:
        managed = False
        db_table = "surveys_invitation_tally"

    def __str__(self):
        return f"{self.sent} sent, {self.answered} answered"
