"""The signal rules: :class:`SignalRule`, the :data:`DEFAULT_RULES` (one per signal family) and their
overrides from ``[signals]`` of revbook.toml (:func:`signal_rules`); the sentence split the scan
applies to every note; :data:`CORPUS_LABELS`, the labels of the cs-notes corpus and the rule each
is measured against. A rule's patterns find candidates (they are wide, for recall); the scope
(:mod:`.scope`) and the model (:mod:`.model`) decide which candidates are signals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ...config.insights import signal_overrides
from ...errors import ConfigError

#: sentences end at . ! ? ; followed by space or the end, or at a line break
SENTENCE_SPLIT = r"[.!?;]+(?:\s+|$)|[\r\n]+"
#: the longest sentence returned in a hit (longer ones are cut, with "...")
MAX_SENTENCE = 1000


@dataclass(frozen=True)
class SignalRule:
    name: str
    polarity: str
    patterns: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    #: a negation inside the matched phrase also blocks it (off for phrases that are negative by
    #: nature, such as "not using all the functionality")
    negation_inside: bool = True
    description: str = ""

    @property
    def regex(self) -> str:
        return "(?i:" + "|".join(f"(?:{p})" for p in self.patterns) + ")"


_NAME = r"[a-z][\w&.-]+"
#: the default rules; some patterns allow a common misspelling ("aquired", "budjet", "fuding")
DEFAULT_RULES: tuple[SignalRule, ...] = (
    SignalRule(
        "acquisition",
        "risk",
        (
            r"\b(?:being|been|was|were|is|are|got|get|getting|gets|be) (?:acq?u?ir\w*|aquir\w*|bought|sold)\b",
            r"\bac?q?uired by\b",
            r"\bbought (?:out )?by\b",
            r"\bsold (?:by|to)\b",
            r"\bbuy-?out\b",
            r"\ba?c?quisit?ion\b",
            r"\baquisit\w*",
            r"\bto acquire\b",
            r"\bmerg(?:er|ing)\b",
            r"\bm&a\b",
            r"\bcarve-?out\b",
            r"\bdivest\w*",
            r"\btaken private\b",
            r"\bdue dilig\w+ (?:in|is|has|under|start)",
            r"\bnew (?:parent|owners?)\b",
            r"\bchange[- ]of[- ]control\b",
            r"\bletter of intent\b|\bloi\b",
            r"\bcombin\w* under\b|\bholding company\b|\bthe acquirer\b|\bthe deal (?:with|closes|is)\b|\bnew '?owners",
        ),
        exclude=(
            r"merger of (?:the |our |their )?(?:two )?(?:\w+ )?(?:teams|departments)",
            r"\binternal (?:team )?merger\b",
            r"merg\w* (?:the |two )?(?:teams|departments|branches|pull|conflict|request|fields)",
            r"\b(?:customer|user|lead|talent) acquisition\b|\bacquisition of (?:new )?(?:customers|users|logos"
            r"|clients|talent|leads)\b",
        ),
        description="acquisition or merger of the customer",
    ),
    SignalRule(
        "champion_left",
        "risk",
        (
            r"\b(?:champion|main contact|sponsor|admin|point of contact|contact)\b[^.;]{0,40}?"
            r"\b(?:is leaving|leaving|has left|left|resigned|quit|departed|moving on|moved on|gone)\b",
            r"\bnew (?:vp|cto|cfo|ceo|coo|cio|cro|head of|director|chief|manager|lead)\b",
            r"\b(?:resign\w*|has left|left (?:the company|in|last)|no longer (?:with|at|works))\b",
            r"\b(?:is|are|'s|was) (?:leaving|moving on|departing)\b|\bmoving on\b",
            r"\b(?:poached|stepped down|stepping down|handed in (?:his|her|their) notice|last day|new adventures)\b",
            r"\b(?:replacing|replaced|successor|took over|taking over|new to the role)\b",
            r"\bleft [A-Z]?\w+ (?:in|last|at)\b",
            r"\bleft (?:\w+ ){1,3}(?:in|last|at|two|a|for)\b|\b(?:he|she|they) left\b|\b(?:was|were|been|got"
            r"|being) let go\b|\bretir\w*",
            r"\bno longer (?:our|the|a) (?:\w+ )?(?:contact|advocate|owner|admin|sponsor)|\bno longer with\b",
            r"\blea?v?ing (?:the company|us|[A-Z]\w+|at the end)|\bhanding (?:over )?(?:admin|ownership)",
            r"\b(?:emails?|messages?) (?:to \w+ )?(?:are |is )?bouncing\b|\bchampion change\b|\bmoved into\b",
        ),
        exclude=(
            r"\bleft (?:a |some |few |comments?|feedback|early|the meeting|the call|a note|over)",
            r"\bretired (?:the|our|their|old|\d+|a|some)\b",
        ),
        description="the champion, admin or executive sponsor left or no longer owns us",
    ),
    SignalRule(
        "budget_cut",
        "risk",
        (
            r"\bbu?dj?g?e?t\w*\b[^.;]{0,40}?\b(?:cut|cuts|slash\w*|reduc\w*|frozen|freeze|trimm?\w*|halved"
            r"|shr[iu]nk\w*)",
            r"\b(?:cut|cuts|cutting|slash\w*|reduc\w*|trimm?\w*)\b[^.;]{0,30}?\b(?:budget|budjet|spend|costs?|saas"
            r"|tools?)\b",
            r"\b(?:spend(?:ing)?|purchasing|procurement) freeze\b|\bfreeze on\b",
            r"\bcost[- ](?:cutting|reduction|savings?|control)\b",
            r"\bsave (?:money|costs?)\b|\bsavings\b",
            r"\bjustify (?:the |our |every |each )?(?:spend|cost|line item|contract|renewal)",
            r"\bline item\b[^.;]{0,30}?\b(?:cut|removed|under review|flagged|dropped|scrutini[sz]\w*|questioned)\b"
            r"|\bleaner\b",
            r"\bconsolidat\w* (?:tools|vendors|spend)",
        ),
        description="a budget cut, spend freeze or cost drive that touches our contract",
    ),
    SignalRule(
        "layoffs_reorg",
        "risk",
        (
            r"\blaid off\b|\blay(?:ing)? off\b|\blayoffs?\b",
            r"\bre-?organi[sz]ation\b|\breorg\b|\brestructur(?:ing|e)\b|\bredundanc\w*",
            r"\b(?:was|were|being|is|are|been|getting|got) (?:re-?organi[sz]ed|restructured|downsized)\b",
            r"\b(?:re-?organi[sz]ed|restructured) (?:the |their |its )?(?:org|organi[sz]ation|company|team"
            r"|department|business)\b",
            r"\brif\b|\breduction in force\b|\bdownsiz(?:ing|e)\b",
            r"\b(?:were|was|been|being|got|get) let go\b|\blet go (?:of )?(?:\d+|staff|people|half|a third|most)\b",
            r"\b(?:job cuts|headcount (?:cut|reduction)s?|cutting (?:jobs|staff|roles|headcount)|skeleton crew"
            r"|empty desks)\b",
            r"\bclosing (?:the |their |its )?\w* ?(?:office|site|plant|branch)\b",
        ),
        description="layoffs or a reorganisation at the customer",
    ),
    SignalRule(
        "competitor",
        "risk",
        (
            r"\b(?:evaluating|trial+ing|piloting|comparison (?:with|vs|against)|comparing (?:us )?"
            r"(?:with|to|against)|switch(?:ing)? to|moving to|migrat\w* to|in talks with)\s+" + _NAME,
            r"\b(?:evaluating|considering|looking at) (?:other|another|alternative) "
            r"(?:vendors?|tools?|solutions?|platforms?|options)\b",
            r"\bcompeti\w*",
            r"\beval(?:uation)?s? (?:of|with)\b|\brunning an eval\b|\bin parallel\b",
            r"\b(?:rfp|rfi|poc|proof of concept|shortlist\w*|bake-?off)\b",
            r"\b(?:saw|seen|had|got|sat through|watched|took) a demo (?:of|from)\b|\bcame in and did\b",
            r"\bgot a quote from\b|\bcheaper (?:option|alternative|quote|offer)\b|\bmatch (?:it|their|the) (?:price"
            r"|quote|offer)",
            r"\b(?:in-house|build (?:their|our) own|built their own|homegrown)\b",
            r"\btrial \w+ for\b|\bto trial\b",
            r"\bdiscount to switch\b|\boffered (?:them )?a discount\b",
            r"\balternative (?:vendors?|tools?|platforms?|solutions?)\b|\bevaluat\w*|\bcompar\w*",
            r"\bpilot of\b|\bmigration (?:assessment|to|plan)\b|\btarget platform\b|\bgroup standard\b",
        ),
        exclude=(
            r"\b(?:evaluating|piloting|moving to|switching to) (?:the|our|a|an|their|it|this|that) "
            r"(?:new )?(?:dashboard|feature|plan|module|workflow|report|api)",
            r"\bevaluating new\b",
        ),
        description="evaluating or moving to a competitor: eval, RFP, POC, competing quote, in-house build",
    ),
    SignalRule(
        "underuse",
        "both",
        (
            r"(?:\bnot|n't|\bdont|\barent|\bisnt|\bhardly|\bbarely|\brarely)\s+(?:\w+ )?(?:using|use|used|uisng"
            r"|utili[sz]\w*|log\w* in|logged)\b",
            r"\bonly (?:using )?(?:about |around |a )?(?:\d+|half|a fraction|some|part|one|a few|a handful)\b",
            r"\b(?:low|poor|flat|weak|dropping|declining) (?:adoption|usage|engagement)\b",
            r"\b(?:adoption|usage|logins?|engagement)\b[^.;]{0,40}?\b(?:low|down|dropp\w*|declin\w*|stalled|zero)\b",
            r"\b(?:unused|idle|shelfware|inactive|dormant|gathering dust)\b",
            r"\b(?:nobody|no one) (?:\w+ )?(?:uses?|using|logs?|logged|opens?|touch\w*)\b|\bnobody has time to use\b",
            r"\bnot (?:been )?(?:viewed|opened)\b|\bhaven'?t been (?:viewed|opened|used)\b",
            r"\b\d+ (?:active )?(?:users )?(?:out )?of (?:the |their )?\d+\b|\b\d+% of (?:licensed |their )?(?:users"
            r"|seats|licen)",
            r"\bout of \d+\b|\bonly (?:really )?uses?\b|\bnone of the\b|\bnever (?:been )?accepted\b",
            r"\bstalled\b|\b(?:active )?users (?:down|dropped|fell)\b|\bno (?:\w+ )?logins\b|\blogins? (?:since|in"
            r"|tell)\b",
        ),
        exclude=(r"\bn't use (?:sso|saml|scim)\b",),
        negation_inside=False,
        description="low adoption: seats or modules unused, shelfware: a risk and an enablement opening",
    ),
    SignalRule(
        "cancel_intent",
        "risk",
        (
            r"\bcanc?ell?\w*",
            r"(?:\bnot|n't|\bwont) (?:be )?renew\w*|\bnon-?renewal\b",
            r"\bnot (?:to )?continu\w*|\bwon'?t continue\b",
            r"\bterminat\w*",
            r"\bdowngrad\w*|\blower (?:tier|plan)\b|\bcheaper plan\b",
            r"\b(?:fewer|reduce|reduc\w*|cut|drop\w*) (?:the )?(?:\w+ )?(?:seats|licen[cs]es|users|add-?on|module)\b",
            r"\bdrop (?:the |our )?\w+ (?:add-?on|module)\b|\bdrop\w* the\b",
            r"\bnotice period\b|\bformal notice\b|\bexport all\b|\bexport (?:all )?(?:of )?(?:their|our) data\b",
            r"\bchurn(?:ed|ing)?\b|\bwalk away\b|\bend (?:the|our) (?:contract|relationship)\b|\bexit\b",
            r"\brightsiz\w*|\bscal\w* (?:back|down)\b",
            r"\breduce (?:our |the )?(?:licen[cs]e|seat|user) count\b|\breduce from\b|\bcome off\b|\btrue-down\b",
            r"\blapse\b|\bsunset\w*|\bdata[- ]export\b|\bfull export\b",
        ),
        negation_inside=False,
        exclude=(
            r"\bcancel\w* (?:the |a |our |their |this |that )?(?:\w+'s |duplicate |live |weekly |scheduled )?"
            r"(?:sync|call|meeting|training|session|report|subscription to|invoice|order|webinar|demo|workshop)",
            r"\bdowngrad\w* (?:the )?ticket|\bdowngraded ticket\b|\btermination[- ]for[- ]convenience\b",
            r"\bchurn (?:rate|metric|model|dashboard|report|analysis|prediction)",
        ),
        description="stated intent to cancel, not renew, terminate early or downgrade",
    ),
    SignalRule(
        "exec_escalation",
        "risk",
        (
            r"\b(?:emailed|called|wrote to|complained to|escalated to|went to|copying|copied|cc'?d|cc'?ing|looped in"
            r"|contacted|rang|phoned|messaged|pinged) (?:our|your) (?:ceo|cto|coo|cfo|cro|president|founder|vp\w*"
            r"|svp|evp"
            r"|leadership|head of|chief|exec\w*|management|board|md)\b",
            r"\b(?:over|above|around) (?:my|the csm'?s|our|your) heads?\b",
            r"\bexec(?:utive)? escalation\b|\bescalat\w* (?:it |this )?(?:to|with) (?:our|your) (?:ceo|vp|leadership"
            r"|management|exec\w*|cto|coo)",
            r"\b(?:ceo|cto|coo|cfo|cio|cro|vp|svp|director|chief \w+ officer|head of \w+|managing director"
            r"|gm)\b[^.;]{0,60}?"
            r"\b(?:furious|complain\w*|escalat\w*|unacceptable|unfit for purpose|demand\w*|threaten\w*|angry|livid)",
            r"\b(?:furious|livid|unfit for purpose|unacceptable)\b|\bcomplained to\b",
        ),
        description="a senior customer person complains to our leadership or goes over the CSM's head",
    ),
    SignalRule(
        "payment_issue",
        "risk",
        (
            r"\b(?:late|missed|overdue|delayed|failed|declined|bounced|outstanding|unpaid|withh?old\w*|withh?eld|held"
            r"|on hold|blocked|disputed?|short[- ]paid|rejected)\b[^.;]{0,30}?\b(?:payments?|invoices?|card|po"
            r"|purchase order|bills?)\b",
            r"\b(?:payments?|invoices?|card|po|purchase order|bills?)\b[^.;]{0,30}?\b(?:late|missed|overdue|outstanding"
            r"|unpaid|declined|bounced|on hold|disputed?|lapsed|expired|rejected|past due|blocked|withh?eld)\b",
            r"\bcollections\b|\bdunning\b|\bpast due\b|\barrears\b|\bwithh?old\w*|\bwithholdnig\b",
            r"\b(?:hasn'?t|haven'?t|not) (?:been )?paid\b|\bdisput\w*|\bpayment deadlines?\b|\bcredit hold\b"
            r"|\boverdue\b",
        ),
        description="a late or missed payment, an invoice dispute, a payment hold",
    ),
    SignalRule(
        "new_team",
        "expansion",
        (
            r"\bnew (?:office|region|business unit|subsidiary|division|department|bu)\b[^.;]{0,40}?\b(?:wants?"
            r"|interest|asked|access|onboard|using|join)",
            r"\b(?:another|a second|second|other) (?:department|team|division|business unit|region|office|group"
            r"|bu)s?\b",
            r"\b(?:subsidiary|division|department|region|regions|office|bu|team|teams|group|org|leads"
            r"|managers)\b[^.;]{0,40}?"
            r"\b(?:wants? (?:in|access|to (?:use|start|join|onboard|get|roll)|its own|their own|the same)"
            r"|asked (?:how to get|for) access"
            r"|(?:is |are )?looking to onboard|to onboard|onto (?:it|the platform|us)|on (?:the platform|board)"
            r"|interested in (?:using|the platform|us)"
            r"|asking about using|been asking about|start using|join the (?:pilot|piolt|rollout)|aksed to join)",
            r"\b(?:roll(?:ing)? (?:it |us |the platform )?out|rollout) (?:to|across) (?:the |their |all )?(?:\w+ )?"
            r"(?:teams?|departments?|regions?|offices?|sites?|subsidiar\w*|org)",
            r"\bextend\w* (?:our |the )?(?:licen[cs]e|contract|platform|access)\b[^.;]{0,40}?\b(?:cover|to|for)\b",
            r"\bstandardi[sz]e on us\b|\bacross (?:all|the) (?:regions|teams|sites|offices|business units)\b",
            r"\bpitching us\b|\bnew bu\b|\bbu interest\b|\bexpand\w* into (?:a |the )?(?:new )?\w+",
            r"\badd their \d+\b|\bbring (?:the |their |those )?(?:\w+ )?(?:teams?|staff|people"
            r"|analysts) (?:\w+ )?(?:onto|on to|into)\b"
            r"|\bbring (?:the )?(?:two |three )?teams? (?:she|he|they) inherited\b",
            r"\b(?:hr|finance|marketing|sales|legal|ops|operations|quality|support|engineering|procurement|partnerships"
            r"|underwriting|billing|payments|patient services|customer success|customer support)\b(?: team| leads"
            r"| department)?"
            r"[^.;]{0,40}?\b(?:wants? (?:in|access|to use|to start|the same)|asked (?:how to get|for) access"
            r"|reached out"
            r"|interested|asking about using|to onboard)",
        ),
        description="another team, department, region, subsidiary or acquired company wants the product",
    ),
    SignalRule(
        "hiring_growth",
        "expansion",
        (
            r"\bhir(?:e|es|ed|ing)\b",
            r"\bheadcount\b|\bhc\b",
            r"\bgrow\w*|\bgrowht\b|\bdoubl\w* (?:the |their )?(?:team|headcount|size)",
            r"\bseries [a-f]\b|\bfund\w* round\b|\bfuding\b|\bfunding\b|\brund\b|\bround of funding\b",
            r"\braised (?:a |an |their |its )?(?:\w+ )?(?:round|series|funding|\$|£|€|\d)",
            r"\bopening (?:a |an )?(?:new )?(?:office|site|location|store|distribution|plant|warehouse)",
            r"\bexpand\w* (?:into|to)\b|\bnew (?:office|site|location|distribution)\b",
            r"\bonboarding (?:\w+ )?new (?:analysts|hires|staff|people|starters)\b|\bnew investment\b|\bscaling\b",
        ),
        exclude=(
            r"\bhiring freeze\b|\bfreeze on hiring\b",
            r"\b(?:add|adding|buy|more|additional|extra) (?:\d+ )?(?:more )?(?:seats|licen[cs]es|users)\b",
        ),
        description="the customer is hiring, growing headcount, opening sites or raised a round",
    ),
    SignalRule(
        "expansion_intent",
        "expansion",
        (
            r"\b(?:add|adding|buy|need|needs|want|wants|more|additional|extra) (?:\d+ )?(?:more |additional |extra "
            r"|new )?"
            r"(?:seats|licen[cs]es|lciences|users|logins)\b",
            r"\bquote for (?:\d+|an?) (?:more |additional |extra )?(?:seats|licen|users)|\bfor another \d+\b",
            r"\b(?:upgrad\w*|bump|increase|raise|lift) (?:\w+ ){0,3}(?:to|the limit|limit|cap|tier|plan|allowance)\b",
            r"\b(?:hit|hitting|hits|over|maxed out|reached|exceeded|exceeding|run out of|ran out of|running out of"
            r"|out of)\b "
            r"(?:the |their |our )?(?:\w+ ){0,2}(?:limit|cap|quota|allowance|seats|licen\w*|lciences|capacity)\b",
            r"\b\d+ ?/ ?\d+ seats\b|\bwaitlist\b|\bgo from \d+ to \d+ seats\b|\bhigher (?:tier|plan|user cap|limit)\b",
        ),
        exclude=(
            r"\bseats (?:at|for) (?:our|the) (?:user |customer )?(?:conference|dinner|event|advisory|summit|webinar"
            r"|table)",
            r"\blimit of (?:her|his|my|their|our) patience\b",
            r"\b(?:reduce|drop|cut|fewer|come off|down to|lower tier)\b",
        ),
        description="asks for more seats, licences or capacity, or hits plan limits",
    ),
    SignalRule(
        "new_use_case",
        "expansion",
        (
            r"\b(?:interested|excited|keen|curious)\b[^.;]{0,60}?\b(?:module|add-?on|package|services|automation"
            r"|forecasting"
            r"|workflow|api|feature|use case|journeys|audit log|sandbox|environment)\b",
            r"\bwants? (?:a demo|to (?:use|try|pilot|explore|automate))\b|\bwould like to (?:pilot|try|use)\b"
            r"|\b'?d like to pilot\b",
            r"\b(?:asked|asking|enquired|inquired) about (?:a |an |the |our )?(?:\w+ ){0,2}(?:module|add-?on"
            r"|environment|package"
            r"|services|tier|sandbox)",
            r"\buse (?:it|us|the platform|\w+) for (?:\w+ )?(?:board|reporting|their|planning|forecast\w*|onboarding)",
            r"\bcould (?:it|you|we|that|\w+ \w+) (?:handle|do|help with|support)\b|\bis that something\b",
            r"\bproposal for the\b|\b(?:pricing|quote) for (?:the )?\w+ (?:module|add-?on)",
            r"\bwants to (?:use|start using) (?:it|the platform|us|\w+) for\b|\bpilot \w+ for\b",
            r"\b(?:what would it|would it) cost to add\b|\bavailable on (?:our|their) plan\b|\bearly access\b",
            r"\b(?:asked for|wants?|requested|booked) (?:a )?demo of\b|\bexplor\w* (?:our|the) \w+ (?:for|module)",
            r"\bscope (?:\w+ )?(?:api|access|module|add-?on)",
        ),
        description="interest in a module, add-on, service or use case they don't have yet",
    ),
    SignalRule(
        "renewal_commit",
        "expansion",
        (
            r"\b(?:confirm\w*|commit\w*|agree\w*|happy to|going to|will|'ll|plans? to|decided to|ready to|approved"
            r"|signed|sign(?:ing)?|go ahead with|verbal\w*|yes to)\b[^.;]{0,40}?\brenew\w*",
            r"\brenew\w*\b[^.;]{0,30}?\b(?:approved|signed|confirmed|committed|agreed|is a go|locked in|done)\b",
            r"\b(?:multi|two|three|2|3)[- ]year (?:renewal|deal|term|contract|option|agreement)\b",
            r"\bverbal(?:ly)? (?:commit\w*|confirm\w*|yes|agree\w*)\b|\bverbally confirmed\b",
            r"\bnot going anywhere\b|\bsend (?:me |us |over )?the paperwork\b|\bearly renewal\b",
            r"\brenew\w* (?:for|through|until) (?:another|\d+|two|three)\b",
        ),
        exclude=(
            r"\brenew\w* (?:our |the |their )?(?:soc|ssl|certificate|cert|licence key|license key|domain|token)",
            r"\b(?:lower tier|downgrad\w*|drop\w*|reduc\w*|fewer|declined|cancel\w*)\b",
        ),
        description="a verbal or written commitment to renew, including multi-year and early renewals",
    ),
)

#: the cs-notes corpus's labels and the rule each one is measured against
CORPUS_LABELS: dict[str, str] = {
    "acquisition_merger": "acquisition",
    "budget_cut": "budget_cut",
    "champion_left": "champion_left",
    "competitor": "competitor",
    "layoffs_reorg": "layoffs_reorg",
    "underuse": "underuse",
    "cancel_intent": "cancel_intent",
    "exec_escalation": "exec_escalation",
    "payment_issue": "payment_issue",
    "new_team": "new_team",
    "hiring_growth": "hiring_growth",
    "more_seats": "expansion_intent",
    "new_use_case": "new_use_case",
    "renewal_commit": "renewal_commit",
}


def signal_rules(overrides: Mapping[str, object] | None = None) -> tuple[SignalRule, ...]:
    """The rules: :data:`DEFAULT_RULES` with ``overrides`` (name -> fields, or ``False`` to drop).

    Fields: ``patterns`` (replace the defaults), ``add_patterns`` (added), ``polarity``,
    ``exclude``, ``negation_inside``, ``description``.
    """
    rules = {r.name: r for r in DEFAULT_RULES}
    for name, spec in signal_overrides(overrides).items():
        if spec is None:
            rules.pop(name, None)
            continue
        base = rules.get(name) or SignalRule(name, spec.polarity or "risk", ())
        patterns = (base.patterns if spec.patterns is None else spec.patterns) + spec.add_patterns
        if not patterns:
            raise ConfigError(f"[signals.{name}] needs at least one pattern")
        rules[name] = SignalRule(
            name,
            spec.polarity or base.polarity,
            patterns,
            base.exclude if spec.exclude is None else spec.exclude,
            base.negation_inside if spec.negation_inside is None else spec.negation_inside,
            base.description if spec.description is None else spec.description,
        )
    if not rules:
        raise ConfigError("no signal rules left", hint="keep at least one rule in [signals]")
    return tuple(rules.values())
