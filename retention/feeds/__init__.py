"""
Each user's calendar feed: a secret, revocable iCalendar (RFC 5545) address that a calendar app
subscribes to, holding the promises, complaint deadlines, check-ins and customers' dates the user sees.
"""
