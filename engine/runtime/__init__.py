"""What ties the engines together: the site (settings + database + wiring), the timer tick and
the worker, event dispatch, notification delivery."""
