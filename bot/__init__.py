"""liepaja-bot: the Liepāja development programme Telegram bot."""

import os

# PTB 22 returns durations (Voice.duration, RetryAfter.retry_after, ...) as plain seconds and
# warns on every read that a future major version will return datetime.timedelta. Opting in now
# (PTB reads this variable at each access; set here, before anything of the bot reads one) gives
# the future behaviour without the warnings; the code that reads durations takes a timedelta.
# setdefault: an operator who sets PTB_TIMEDELTA explicitly keeps their choice.
os.environ.setdefault("PTB_TIMEDELTA", "true")
