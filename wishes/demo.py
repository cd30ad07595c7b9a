"""Demo micro-wishes for seed_demo: 慈松塘社区's "助力微心愿", as the community runs it.

Residents' wishes collected by WeChat notices, home visits, phone calls and the service
station; checked into a needs list; the services list of its member and partner units,
registered party members and the 六义社 volunteer teams; most wishes fulfilled. Written with
their histories (timestamps and timeline), not through the services, which stamp "now".
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from django.utils import timezone

from wishes.models import Dispatch, Offer, Provider, ServiceKind, Wish, WishEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from grids.models import Community, Courtyard

COMMUNITY = "慈松塘社区"
PROVIDER_ACCOUNT = ("provider", "普布次仁")  # the demo provider's login: a registered party member

K = Provider.Kind
F = Offer.Form


class OfferSpec(NamedTuple):
    provider: str
    provider_kind: str
    contact: str
    title: str
    kind: str
    form: str
    capacity: int
    place: str
    time_text: str


OFFERS = [
    OfferSpec(
        "城关区人民医院",
        K.MEMBER_UNIT,
        "张医生",
        "上门义诊、测血压血糖",
        "medical",
        F.ONE_TO_MANY,
        6,
        "社区服务站",
        "每月第一个周六上午",
    ),
    OfferSpec(
        "城关区人民医院",
        K.MEMBER_UNIT,
        "张医生",
        "陪同就医、代为挂号",
        "medical",
        F.ONE_TO_ONE,
        3,
        "城关区人民医院",
        "工作日",
    ),
    OfferSpec(
        "拉萨市第一小学",
        K.PARTNER_UNIT,
        "次仁老师",
        "课业辅导",
        "study",
        F.ONE_TO_ONE,
        4,
        "社区四点半课堂",
        "周一至周五16:30",
    ),
    OfferSpec(
        "拉萨市第一小学",
        K.PARTNER_UNIT,
        "次仁老师",
        "捐赠学习用品",
        "study",
        F.ONE_TO_MANY,
        5,
        "拉萨市第一小学",
        "开学前",
    ),
    OfferSpec(
        "城关区康复中心",
        K.PARTNER_UNIT,
        "卓嘎",
        "康复训练指导、轮椅借用",
        "daily_care",
        F.ONE_TO_ONE,
        3,
        "上门",
        "预约",
    ),
    OfferSpec(
        "雪域健身馆",
        K.PARTNER_UNIT,
        "扎西",
        "老年健身操教学",
        "culture",
        F.ONE_TO_MANY,
        4,
        "社区广场",
        "每周三傍晚",
    ),
    OfferSpec(
        "娘热街道司法所",
        K.MEMBER_UNIT,
        "王律师",
        "法律咨询、代写文书",
        "legal",
        F.ONE_TO_ONE,
        3,
        "社区服务站",
        "每周二下午",
    ),
    OfferSpec(
        "国网拉萨供电公司城关分部",
        K.MEMBER_UNIT,
        "李师傅",
        "入户检查线路",
        "repair",
        F.ONE_TO_ONE,
        3,
        "上门",
        "预约",
    ),
    OfferSpec(
        "六义社·义剪队",
        K.VOLUNTEER_TEAM,
        "央金",
        "上门理发",
        "daily_care",
        F.ONE_TO_MANY,
        6,
        "上门或服务站",
        "每月15日",
    ),
    OfferSpec(
        "六义社·义修队",
        K.VOLUNTEER_TEAM,
        "格桑",
        "小家电、水管维修",
        "repair",
        F.ONE_TO_ONE,
        4,
        "上门",
        "周末",
    ),
    OfferSpec(
        "六义社·义演队",
        K.VOLUNTEER_TEAM,
        "德吉",
        "节日慰问演出",
        "culture",
        F.ONE_TO_MANY,
        3,
        "社区广场",
        "节假日",
    ),
    OfferSpec(
        "六义社·义送队",
        K.VOLUNTEER_TEAM,
        "边巴",
        "代买代送生活用品",
        "daily_care",
        F.MANY_TO_ONE,
        5,
        "上门",
        "每天",
    ),
    OfferSpec(
        "普布次仁",
        K.PARTY_MEMBER,
        "普布次仁",
        "帮扶独居老人",
        "daily_care",
        F.ONE_TO_ONE,
        4,
        "上门",
        "周末",
    ),
    OfferSpec(
        "拉巴卓玛",
        K.PARTY_MEMBER,
        "拉巴卓玛",
        "陪伴聊天、读报",
        "daily_care",
        F.ONE_TO_ONE,
        3,
        "上门",
        "周末",
    ),
    OfferSpec(
        "旦增", K.PARTY_MEMBER, "旦增", "助学结对", "study", F.ONE_TO_ONE, 2, "上门", "寒暑假"
    ),
]

# (wish, kind, details)
WISHES = [
    ("想要一副老花镜", "medical", "独居老人，看不清药盒上的字。"),
    ("希望有人帮忙理发", "daily_care", "行动不便，出门困难。"),
    ("孩子数学需要辅导", "study", "父母在外务工，孩子由奶奶照看。"),
    ("想要一个新书包", "study", "书包已经破了。"),
    ("家里水管漏水", "repair", "厨房水管接口渗水。"),
    ("想学健身操", "culture", "退休后想和邻居一起锻炼。"),
    ("需要借用轮椅", "daily_care", "术后康复期，需要轮椅三个月。"),
    ("想咨询赡养纠纷", "legal", "子女不履行赡养义务。"),
    ("希望有人陪同去医院复查", "medical", "子女不在身边。"),
    ("电饭锅坏了，想找人修", "repair", "低保户。"),
    ("想有人定期来聊聊天", "daily_care", "老伴去世后一个人住。"),
    ("需要代买米面油", "daily_care", "腿脚不便，无法出门采购。"),
    ("想测测血压", "medical", "最近经常头晕。"),
    ("屋里电线老化", "repair", "担心用电安全。"),
    ("想在藏历新年看一场演出", "culture", "一直在家，很少出门。"),
    ("孩子需要学习用品", "study", "三个孩子上学。"),
]
BENEFICIARIES = [
    "次仁卓玛",
    "扎西顿珠",
    "格桑曲珍",
    "多吉",
    "央宗",
    "普琼",
    "达娃",
    "尼玛",
    "卓嘎",
    "索朗",
    "白玛",
    "拉姆",
    "平措",
    "旺堆",
    "德吉",
    "边巴",
]
SOURCES = [Wish.Source.WECHAT, Wish.Source.VISIT, Wish.Source.PHONE, Wish.Source.STATION]
NOTES = {
    "medical": "已上门测量并讲解用药，老人很满意。",
    "daily_care": "已上门服务，并约定下次时间。",
    "study": "已结对辅导，学习用品已送到。",
    "repair": "已上门维修，经检查可正常使用。",
    "culture": "已邀请参加活动。",
    "legal": "已提供咨询并协助写好调解申请。",
    "other": "已完成。",
}
# What became of the 44 wishes collected: 42 on the needs list, 36 of them fulfilled.
PLAN = (
    ["declined"] * 2
    + ["verified"] * 2
    + ["dispatched"] * 2
    + ["taken"] * 2
    + ["done"] * 10
    + ["revisited"] * 26
)


def seed_wishes(
    community: Community,
    courtyards: list[Courtyard],
    staff: User,
    workers: list[User],
    make_user: Callable[[str, str], User],
    now: datetime | None = None,
) -> str:
    """Seed 慈松塘社区's providers, offers and wishes once; a second run leaves them as they are."""
    if Wish.objects.filter(community=community).exists():
        return f"Micro-wishes: {COMMUNITY} has wishes already; left as they are."
    now = now or timezone.now()
    rng = random.Random(COMMUNITY)  # noqa: S311 -- demo data, the same on every run
    kinds = {k.code: k for k in ServiceKind.objects.all()}
    offers = _seed_offers(community, kinds, make_user)
    by_kind: dict[str, list[Offer]] = {}
    for offer in offers:
        by_kind.setdefault(offer.kind.code, []).append(offer)
    events: list[WishEvent] = []
    for n, target in enumerate(PLAN):
        title, code, details = WISHES[n % len(WISHES)]
        if target in ("dispatched", "taken"):
            # The open ones are daily care, which the demo provider offers: its phone has work.
            title, code, details = [w for w in WISHES if w[1] == "daily_care"][n % 4]
        courtyard = courtyards[n % len(courtyards)]
        worker = workers[n % len(workers)]
        created = now - timedelta(days=rng.randint(3, 150), hours=rng.randint(0, 8))
        wish = Wish(
            title=title,
            description=details,
            kind=kinds[code],
            source=rng.choice(SOURCES),
            beneficiary_name=BENEFICIARIES[n % len(BENEFICIARIES)],
            beneficiary_phone=f"139{rng.randint(0, 99_999_999):08d}",
            courtyard=courtyard,
            created_by=worker,
            created_at=created,
            status=target,
        )
        wish.set_area_from_courtyard()
        steps = _history(wish, target, staff, created, rng, now)
        wish.save()
        events.append(
            WishEvent(
                wish=wish, actor=worker, action="create", to_status="collected", created_at=created
            )
        )
        for action, at, source, to, note in steps:
            dispatch = None
            if action == "dispatch":
                offer = _pick(by_kind.get(code) or offers, rng, target)
                state = {"dispatched": "dispatched", "taken": "taken"}.get(target, "done")
                dispatch = Dispatch.objects.create(
                    wish=wish,
                    offer=offer,
                    provider=offer.provider,
                    state=state,
                    dispatched_by=staff,
                    dispatched_at=at,
                    taken_at=wish.taken_at,
                    done_at=wish.done_at,
                )
                note = str(offer)
            actor = staff if action in ("verify", "decline", "dispatch") else worker
            if action in ("take", "complete"):
                dispatch = wish.dispatches.get()
                actor = dispatch.provider.user or staff
            events.append(
                WishEvent(
                    wish=wish,
                    actor=actor,
                    action=action,
                    from_status=source,
                    to_status=to,
                    note=note,
                    created_at=at,
                    dispatch=dispatch,
                )
            )
    WishEvent.objects.bulk_create(events)
    fulfilled = sum(t in ("done", "revisited") for t in PLAN)
    return (
        f"Micro-wishes: {len(PLAN)} collected, {len(PLAN) - 2} on the needs list, "
        f"{len(offers)} offers, {fulfilled} fulfilled."
    )


def _pick(offers: list[Offer], rng: random.Random, target: str) -> Offer:
    # The demo provider's own offer gets the open wishes, so its phone screen has work on it.
    if target in ("dispatched", "taken"):
        own = [o for o in offers if o.provider.user_id is not None]
        if own:
            return own[0]
    return rng.choice(offers)


def _history(
    wish: Wish, target: str, staff: User, created: datetime, rng: random.Random, now: datetime
) -> list[tuple[str, datetime, str, str, str]]:
    """The steps from "collected" to `target`, each a day or few after the last, on the wish."""
    order = ["verify", "dispatch", "take", "complete", "record_satisfaction"]
    reach = {"declined": 0, "verified": 1, "dispatched": 2, "taken": 3, "done": 4, "revisited": 5}[
        target
    ]
    to_state = {
        "verify": "verified",
        "dispatch": "dispatched",
        "take": "taken",
        "complete": "done",
        "record_satisfaction": "revisited",
    }
    at, status, steps = created, "collected", []
    if target == "declined":
        at += timedelta(days=1)
        wish.declined_at = at
        wish.decline_reason = "已纳入低保救助，由民政渠道解决。"
        return [("decline", at, status, "declined", wish.decline_reason)]
    for action in order[:reach]:
        at = min(at + timedelta(days=rng.randint(1, 4), hours=rng.randint(1, 5)), now)
        to = to_state[action]
        setattr(
            wish,
            {
                "verified": "verified_at",
                "dispatched": "dispatched_at",
                "taken": "taken_at",
                "done": "done_at",
                "revisited": "revisited_at",
            }[to],
            at,
        )
        note = ""
        if action == "complete":
            wish.done_note = note = NOTES[wish.kind.code]
        if action == "record_satisfaction":
            wish.satisfaction = rng.choice(["satisfied"] * 5 + ["basically"])
            note = str(Wish.Satisfaction(wish.satisfaction).label)
        if action == "verify":
            wish.due_on = (at + timedelta(days=14)).date()
        steps.append((action, at, status, to, note))
        status = to
    return steps


def _seed_offers(
    community: Community, kinds: dict[str, ServiceKind], make_user: Callable[[str, str], User]
) -> list[Offer]:
    offers = []
    for spec in OFFERS:
        provider, _ = Provider.objects.get_or_create(
            name=spec.provider,
            defaults={
                "kind": spec.provider_kind,
                "contact_name": spec.contact,
                "contact_phone": "13908900000",
            },
        )
        provider.communities.add(community)
        if spec.provider == PROVIDER_ACCOUNT[1] and provider.user_id is None:
            provider.user = make_user(*PROVIDER_ACCOUNT)
            provider.save(update_fields=["user"])
        offer, _ = Offer.objects.get_or_create(
            provider=provider,
            title=spec.title,
            community=community,
            defaults={
                "kind": kinds[spec.kind],
                "form": spec.form,
                "capacity": spec.capacity,
                "place": spec.place,
                "time_text": spec.time_text,
            },
        )
        offers.append(offer)
    return offers
