"""The stages of a simulated fiscal year, one module each (``BudgetModel.step`` calls them in
this order; each stage asks the agents that own a decision to take it through Mesa's AgentSet):

* ``adaptation`` — year start, before planning: agents learn from last year (multi-channel
  propensity, plan-quality feedback);
* ``proposals`` — year start: carry-over, the year's plan (allocation and selection, ``world.py``),
  the proposals booked, ministries notify, provinces schedule their action plans;
* ``funding`` — provinces whose action plan is due screen and fund proposals;
* ``execution`` — projects start, pay and need changes (vectorised over the project book);
* ``requests`` — change/cancel requests queue at ก.บ.จ. and the Budget Bureau; six-monthly reports
  escalate stuck requests;
* ``ledger`` — year end: lapse or carry-over, conservation to the baht, outcomes for citizens;
* ``allocation`` — the formula allocation rules' weights (read by ``world.py``).
"""
