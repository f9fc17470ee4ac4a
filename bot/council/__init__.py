"""The council's own data, read from its council information system through OParl 1.1.

OParl (https://oparl.org) is the open standard German councils use to publish bodies,
committees, meetings and papers as JSON over HTTP. This package reads it for step 6
("Politische Entscheidung"): the council's meetings and the state of a theme's
Beschlussvorlage.

- `models`: typed, validating models of the OParl objects the bot reads (1.0 and 1.1).
- `reading`: pure functions over parsed models (which body, which organization, which
  meetings, a paper's consultations and decision); no I/O, no clock.
- `client`: `OParlClient`, a polite HTTP client (conditional requests, redirects by hand)
  that turns every failure into one `OParlUnavailable`; `politeness`: its limits, pacing,
  byte budget and response cache; `failures`: the failures as codes with values, whose
  sentences are `templates/<lang>/oparl.j2`.

The package stands on its own: it imports nothing from the store, Matrix, the engines or
the commands, so that the wiring decides what to keep and when to ask again.
"""
