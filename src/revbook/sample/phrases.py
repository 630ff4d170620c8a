"""The wording of the sample's text: churn-reason comments and picklist aliases per reason,
routine notes, the trigger phrases of each signal and their hard negatives, and the names, places
and companies that fill the templates. Which of them are planted where is in :mod:`revbook.sample.text`."""

from __future__ import annotations

COMPETITORS = ("Retainio", "Churnly", "Pulsegrid", "Loyalto", "Veritrack")
ACQUIRERS = ("Hollis Group", "Brightline Capital", "Kestrel Holdings", "Marlow Industries", "Oakbridge")
CITIES = ("Austin", "Berlin", "Singapore", "Toronto", "Madrid", "Sydney")
DEPTS = ("finance", "marketing", "operations", "support", "HR", "sales ops")
NAMES = ("Sarah", "Tom", "Priya", "Jonas", "Mei", "Carlos", "Aisha", "Dmitri")
TITLES = ("VP of Operations", "CTO", "CFO", "Head of Customer Experience", "COO")

# -- churn reason comments ---------------------------------------------------------------------
COMMENTS: dict[str, tuple[str, ...]] = {
    "fit": (
        "Not the right fit for how their team works",
        "They realised it was never a good fit for a {n}-person shop",
        "poor fit from the start, sold to the wrong persona",
        "Wrong tool for their use case, they needed something simpler",
        "product didn't match their workflow at all",
        "Too complex for what they do, onboarding never stuck",
        "Not worth it for them, they only needed a spreadsheet",
    ),
    "missing_features": (
        "Missing features they needed, mainly the Salesforce integration",
        "No native integration with their data warehouse",
        "Product lacks custom reporting; on the roadmap for too long",
        "they needed SSO and audit logs which we dont have",
        "Kept asking for the mobile app, never shipped",
        "feature gaps in workflow automation",
        "Needed multi-currency support we don't offer",
        "support said the integration is on the roadmap; they could not wait",
        "Not worth it without the API features",
    ),
    "support": (
        "Unhappy with support response times",
        "Support was slow and tickets bounced between teams",
        "Two escalations went unanswered for a week",
        "Bad experience with our help desk after the outage",
        "felt ignored by the support team",
        "Slow responses to their tickets during onboarding",
        "Support never answered their questions about the missing export",
    ),
    "price": (
        "Too expensive for what they use",
        "Price increase at renewal was too much",
        "Found a cheaper option",
        "Cost too much for a small team, couldn't justify the spend",
        "price went up {p}% and they walked",
        "said we are overpriced compared to alternatives",
        "Pricing per seat doesn't work for them",
        "cant justify the cost anymore",
        "too pricey",
        "Budget is tight and the price went up again",
        "They said a competitor is cheaper",
        "Not worth it anymore",
    ),
    "change_in_needs": (
        "No longer need the product, the project ended",
        "They changed strategy and dropped this use case",
        "Project finished, nothing left to track",
        "Their needs changed after moving to in-house tooling",
        "Don't need it since the team was repurposed",
        "Use case went away",
        "Not worth it anymore since the team changed focus",
    ),
    "financial_struggle": (
        "Company is going out of business",
        "Filed for bankruptcy",
        "Cash flow problems, cutting all non-essential vendors",
        "They are shutting down operations",
        "Insolvency proceedings started",
        "Struggling financially, could not pay the invoices",
        "Had to cut every vendor to survive, business is in trouble",
    ),
    "acquisition": (
        "Acquired by {acq}, moving to the parent's tools",
        "They were bought by {acq} and consolidated vendors",
        "Merger with {acq}; the new parent has its own platform",
        "post-acquisition consolidation",
        "New owners standardised on another stack after the merger",
        "Got acquired, contract not renewed by the parent",
        "New parent company wants one vendor for everything",
        "After the deal closed the buyer moved them to their tools",
    ),
    "champion_left": (
        "Our champion {name} left and nobody picked it up",
        "Main contact left the company",
        "New {title} came in and cut the tool",
        "Champion departed, new leadership didn't see the value",
        "{name} (our sponsor) quit; the team never adopted it after",
        "Lost our champion to a reorg",
        "After our champion left, the new team said it was too expensive",
        "New leadership, new priorities; nobody owns the tool now",
    ),
    "competitor": (
        "Switched to {comp}",
        "Moved to a competitor with better reporting",
        "They went with {comp} after a bake-off",
        "Lost to {comp} on features and price",
        "Competitor offered a bundle we couldn't match",
        "switching to {comp} next quarter",
        "Competitor was cheaper and had better reporting",
        "{comp} gave them a better deal",
    ),
    "budget_cut": (
        "Budget cut across IT",
        "Budget freeze for the rest of the year",
        "Their department budget was cut in half",
        "Cost-cutting program, all tools under review",
        "Spending freeze from the CFO",
        "budget reductions hit the CS tooling line",
        "Budget was cut, so the price no longer made sense",
        "finance told them to drop tools that aren't essential",
    ),
    "unknown": (
        "",
        "No reason given",
        "did not say",
        "Customer declined to give feedback",
        "n/a",
    ),
}
ALIASES: dict[str, tuple[str, ...]] = {
    "fit": ("Poor fit", "bad fit", "Fit"),
    "missing_features": ("Missing features", "Product gaps", "feature gap"),
    "support": ("Support", "Bad support"),
    "price": ("Price", "Pricing", "Too expensive", "price / cost"),
    "change_in_needs": ("Change in needs", "No longer needed"),
    "financial_struggle": ("Financial", "Out of business"),
    "acquisition": ("Acquisition", "Merger", "M&A"),
    "champion_left": ("Champion left", "Champion"),
    "competitor": ("Competitor", "Lost to competitor"),
    "budget_cut": ("Budget", "Budget cut"),
    "unknown": ("Other", "n/a", "Unknown"),
}

# -- notes ---------------------------------------------------------------------------------------
ROUTINE = (
    "Monthly check-in, no issues raised",
    "QBR went well, adoption is steady",
    "Onboarding call with {name}; covered SSO setup",
    "Sent the renewal quote",
    "Walked them through the new reporting dashboard",
    "Ticket about CSV export resolved",
    "Training session for new users scheduled",
    "They asked about API rate limits",
    "Invoice question from their finance team, resolved",
    "Shared the product roadmap webinar",
    "Health check: usage flat, sentiment positive",
    "Followed up on the integration setup",
    "Quick call about permissions for admins",
    "Exec sponsor meeting moved to next month",
)
TRIGGERS: dict[str, tuple[str, ...]] = {
    "acquisition": (
        "They are being acquired by {acq}",
        "Heads up: the merger with {acq} closes next quarter",
        "They were acquired by {acq} last month",
        "Contact mentioned an acquisition by {acq} is in progress",
        "They got bought by {acq}, new parent runs a different stack",
    ),
    "champion_left": (
        "{name}, our champion, is leaving the company next month",
        "Our main contact {name} has left",
        "A new {title} started and is reviewing all vendors",
        "{name} resigned, no clear owner for the account now",
        "Our sponsor {name} is moving on at the end of the month",
    ),
    "budget_cut": (
        "Budget cuts across the department this quarter",
        "Finance announced a spending freeze",
        "Their budget was cut by {p}%",
        "They have to cut costs and are reviewing every subscription",
    ),
    "layoffs_reorg": (
        "They laid off {p}% of staff",
        "Layoffs announced last week",
        "Big reorganisation underway, the team is being restructured",
        "Reorg: the ops team is being folded into finance",
    ),
    "competitor": (
        "They're evaluating {comp}",
        "Saw a demo of {comp} last week, comparing pricing",
        "Procurement asked for a comparison with {comp}",
        "They are trialling {comp} in parallel",
        "They are evaluating other vendors",
    ),
    "underuse": (
        "They're not using all the functionality",
        "Only using about half of the features they pay for",
        "They aren't using the reporting module at all",
        "Low adoption of the advanced features",
        "they dont use most of the features",
    ),
    "new_team": (
        "They're opening a new office in {city}",
        "Launching a new product line next quarter",
        "Expanding into a new region next year",
        "They are building a new team of {n} analysts",
    ),
    "expansion_intent": (
        "Asked for a quote for {n} more seats",
        "Another department wants access",
        "The {dept} team wants to roll it out too",
        "They want to add more licenses",
        "Interested in upgrading to the enterprise plan",
    ),
}
HARD_NEGATIVES: dict[str, tuple[str, ...]] = {
    "acquisition": (
        "We are not being acquired, despite the rumours",
        "Asked what happens to the contract if we were acquired, just due diligence",
        "The merger of two internal teams went fine",
        "Whether or not they get acquired, the contract stands",
        "No acquisition plans, they said",
    ),
    "champion_left": (
        "Our champion {name} is not leaving, she was promoted",
        "If {name} ever left we would need a new sponsor",
    ),
    "budget_cut": ("No budget cuts this year", "Budget was not cut after all", "If budget cuts come, they keep us"),
    "layoffs_reorg": ("There were no layoffs, the team is growing", "If layoffs happen they would keep this tool"),
    "competitor": ("They are not evaluating other vendors", "Never trialled {comp}, happy with us"),
    "expansion_intent": ("No plans to add more seats", "They won't add another department this year"),
    "new_team": ("No new office planned", "If they open a new office in {city} we might talk"),
}
