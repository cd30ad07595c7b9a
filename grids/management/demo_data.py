"""What `seed_demo` creates: real Lhasa places, the people who work them, and the cases they meet.

Data only; `seed_demo` turns it into rows. Place names are real; courtyard names, addresses
and people are made up in the way they sound on the ground.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEMO_PASSWORD = "grassroots-demo"  # noqa: S105 -- published in DESIGN.md on purpose


@dataclass(frozen=True)
class Person:
    username: str
    name: str


@dataclass(frozen=True)
class GridSpec:
    name: str
    courtyards: tuple[tuple[str, str], ...]  # (name, address)
    workers: tuple[Person, ...]


@dataclass(frozen=True)
class CommunitySpec:
    name: str
    centre: tuple[float, float]
    grids: tuple[GridSpec, ...]
    staff: tuple[Person, ...]
    is_village: bool = False
    weight: int = 10  # share of the demo issues


@dataclass(frozen=True)
class SubdistrictSpec:
    name: str
    communities: tuple[CommunitySpec, ...]
    is_township: bool = False


@dataclass(frozen=True)
class DistrictSpec:
    name: str
    subdistricts: tuple[SubdistrictSpec, ...]
    is_county: bool = False


GRIDWORKER = Person("gridworker", "扎西")
STAFF = Person("staff", "拉姆")
OFFICIAL = Person("official", "王建国")
ADMIN = Person("admin", "系统管理员")
DISTRICT_OFFICIAL = Person("lihaiyan", "李海燕")

DEMO_COMMUNITY = "冲赛康社区"

_NUMERALS = "一二三四五六七八九十"


def _grid_name(index: int) -> str:
    return f"第{_NUMERALS[index]}网格"


def _village_grids(
    village: str, address: str, groups: tuple[int, ...], workers: tuple[Person, ...]
) -> tuple[GridSpec, ...]:
    """Rural grids are made of 村民小组 (一组, 二组 ...), which play the courtyard's part."""
    grids = []
    group = 0
    for index, (size, worker) in enumerate(zip(groups, workers, strict=True)):
        courtyards = []
        for _ in range(size):
            label = f"{_NUMERALS[group]}组"
            courtyards.append((f"{village}{label}", f"{address}{village}{label}"))
            group += 1
        grids.append(GridSpec(_grid_name(index), tuple(courtyards), (worker,)))
    return tuple(grids)


PLACES: tuple[DistrictSpec, ...] = (
    DistrictSpec(
        "城关区",
        (
            SubdistrictSpec(
                "八廓街道",
                (
                    CommunitySpec(
                        DEMO_COMMUNITY,
                        (29.6545, 91.1318),
                        (
                            GridSpec(
                                "第一网格",
                                (
                                    ("格东大院", "城关区八廓北街6号"),
                                    ("西嘎奴大院", "城关区冲赛康巷18号"),
                                    ("鲁固大院", "城关区鲁固一巷9号"),
                                ),
                                (GRIDWORKER,),
                            ),
                            GridSpec(
                                "第二网格",
                                (
                                    ("吉日大院", "城关区吉日二巷7号"),
                                    ("夏扎大院", "城关区八廓东街21号"),
                                    ("帕拉大院", "城关区八廓南街35号"),
                                ),
                                (GRIDWORKER,),
                            ),
                            GridSpec(
                                "第三网格",
                                (
                                    ("木如大院", "城关区北京东路木如巷5号"),
                                    ("索康大院", "城关区宇拓路14号"),
                                    ("冲赛康大院", "城关区冲赛康巷3号"),
                                    ("甲玛大院", "城关区林廓东路8号"),
                                ),
                                (Person("cidan", "次旦"),),
                            ),
                        ),
                        (STAFF, Person("yangjin", "央金")),
                        weight=32,
                    ),
                    CommunitySpec(
                        "丹杰林社区",
                        (29.6521, 91.1336),
                        (
                            GridSpec(
                                "第一网格",
                                (
                                    ("丹杰林大院", "城关区丹杰林路11号"),
                                    ("藏医院路小区", "城关区藏医院路26号"),
                                ),
                                (Person("nimaciren", "尼玛次仁"),),
                            ),
                            GridSpec(
                                "第二网格",
                                (
                                    ("朵森格大院", "城关区朵森格路40号"),
                                    ("八廓商城后院", "城关区八廓南街商城后院"),
                                    ("嘎玛贡桑大院", "城关区朵森格路62号"),
                                ),
                                (Person("gesangquzhen", "格桑曲珍"),),
                            ),
                        ),
                        (Person("cirenzhuoma", "次仁卓玛"),),
                        weight=9,
                    ),
                ),
            ),
            SubdistrictSpec(
                "八一街道",
                (
                    CommunitySpec(
                        "八一社区",
                        (29.6492, 91.0952),
                        (
                            GridSpec(
                                "第一网格",
                                (
                                    ("农牧家属院", "城关区八一路12号"),
                                    ("交通家属院", "城关区八一路27号"),
                                    ("金珠西路小区", "城关区金珠西路88号"),
                                ),
                                (Person("dawadunzhu", "达瓦顿珠"),),
                            ),
                            GridSpec(
                                "第二网格",
                                (
                                    ("电力家属院", "城关区罗布林卡北路15号"),
                                    ("民航小区", "城关区金珠西路121号"),
                                ),
                                (Person("bianba", "边巴"),),
                            ),
                            GridSpec(
                                "第三网格",
                                (
                                    ("西郊小区", "城关区金珠西路156号"),
                                    ("运输公司家属院", "城关区八一路45号"),
                                    ("八一农场大院", "城关区八一路68号"),
                                ),
                                (Person("pubuzhaxi", "普布扎西"),),
                            ),
                        ),
                        (Person("zhangwei", "张伟"),),
                        weight=12,
                    ),
                ),
            ),
            SubdistrictSpec(
                "娘热街道",
                (
                    CommunitySpec(
                        "慈松塘社区",
                        (29.6738, 91.1226),
                        (
                            GridSpec(
                                "第一网格",
                                (
                                    ("慈松塘大院", "城关区娘热北路33号"),
                                    ("娘热路小区", "城关区娘热中路16号"),
                                    ("夺底路家属院", "城关区夺底路9号"),
                                ),
                                (Person("suolangwangmu", "索朗旺姆"),),
                            ),
                            GridSpec(
                                "第二网格",
                                (
                                    ("扎基路小区", "城关区扎基路21号"),
                                    ("色拉路家属院", "城关区色拉路5号"),
                                ),
                                (Person("pingcuo", "平措"),),
                            ),
                        ),
                        (Person("luosang", "洛桑"),),
                        weight=10,
                    ),
                ),
            ),
            SubdistrictSpec(
                "纳金街道",
                (
                    CommunitySpec(
                        "塔玛社区",
                        (29.6597, 91.1838),
                        (
                            GridSpec(
                                "第一网格",
                                (
                                    ("塔玛新村", "城关区纳金路108号"),
                                    ("纳金路小区", "城关区纳金路66号"),
                                ),
                                (Person("yangzong", "央宗"),),
                            ),
                            GridSpec(
                                "第二网格",
                                (
                                    ("纳金安居园", "城关区纳金路140号"),
                                    ("藏大东路家属院", "城关区藏大东路30号"),
                                    ("塔玛商住小区", "城关区纳金路188号"),
                                ),
                                (Person("deji", "德吉"),),
                            ),
                            GridSpec(
                                "第三网格",
                                (
                                    ("塔玛一组院落", "城关区纳金路塔玛一组"),
                                    ("塔玛二组院落", "城关区纳金路塔玛二组"),
                                ),
                                (Person("baima", "白玛"),),
                            ),
                        ),
                        (Person("liufang", "刘芳"),),
                        weight=12,
                    ),
                ),
            ),
        ),
    ),
    DistrictSpec(
        "尼木县",
        (
            SubdistrictSpec(
                "帕古乡",
                (
                    CommunitySpec(
                        "帕古村",
                        (29.4318, 90.1642),
                        _village_grids(
                            "帕古村",
                            "尼木县帕古乡",
                            (3, 2),
                            (Person("danzeng", "旦增"), Person("mima", "米玛")),
                        ),
                        (Person("basang", "巴桑"),),
                        is_village=True,
                        weight=8,
                    ),
                ),
                is_township=True,
            ),
        ),
        is_county=True,
    ),
    DistrictSpec(
        "曲水县",
        (
            SubdistrictSpec(
                "曲水镇",
                (
                    CommunitySpec(
                        "色麦村",
                        (29.3552, 90.7398),
                        _village_grids(
                            "色麦村",
                            "曲水县曲水镇",
                            (2, 3),
                            (Person("qiangba", "强巴"), Person("yixizhuoga", "益西卓嘎")),
                        ),
                        (Person("qiongda", "琼达"),),
                        is_village=True,
                        weight=9,
                    ),
                ),
                is_township=True,
            ),
        ),
        is_county=True,
    ),
    DistrictSpec(
        "林周县",
        (
            SubdistrictSpec(
                "松盘乡",
                (
                    CommunitySpec(
                        "松盘村",
                        (29.9046, 91.2571),
                        _village_grids(
                            "松盘村",
                            "林周县松盘乡",
                            (2, 2),
                            (Person("luobu", "罗布"), Person("labaciren", "拉巴次仁")),
                        ),
                        (Person("gama", "嘎玛"),),
                        is_village=True,
                        weight=8,
                    ),
                ),
                is_township=True,
            ),
        ),
        is_county=True,
    ),
)

# (person, district, subdistrict): exactly one of the two areas is named.
OFFICIALS: tuple[tuple[Person, str | None, str | None], ...] = (
    (OFFICIAL, None, "八廓街道"),
    (DISTRICT_OFFICIAL, "城关区", None),
)

COURTYARD_LEADERS = (
    "次仁",
    "卓玛",
    "扎西",
    "格桑",
    "达娃",
    "旺堆",
    "普琼",
    "拉珍",
    "仓决",
    "索朗次仁",
    "尼玛卓嘎",
    "多吉",
    "边巴次仁",
    "阿旺",
    "贡桑",
    "马玉兰",
    "陈建华",
)

RESIDENTS = (
    "次仁",
    "卓玛",
    "扎西",
    "格桑",
    "达娃",
    "旺堆",
    "普琼",
    "拉珍",
    "仓决",
    "索朗次仁",
    "尼玛卓嘎",
    "多吉",
    "边巴",
    "阿旺",
    "贡桑",
    "次仁央宗",
    "扎西顿珠",
    "格桑拉姆",
    "德吉央宗",
    "平措旺杰",
    "索朗卓玛",
    "米玛次仁",
    "普布卓玛",
    "拉巴",
    "巴桑次仁",
    "白玛央金",
    "旦增曲珍",
    "洛桑丹增",
    "央拉",
    "加央",
    "张桂兰",
    "李秀英",
    "王红",
    "陈建华",
    "赵德明",
    "马玉兰",
    "杨丽",
    "刘志强",
)

MOBILE_PREFIXES = ("139", "138", "189", "177", "136", "150", "158", "181", "133", "187")

FLOORS = ("一单元三楼", "二单元二楼", "东侧二楼", "西楼一层", "北楼三层", "三单元五楼")

SITES = (
    "纳金路某安置房工地",
    "柳梧新区某住宅项目",
    "娘热路道路改造工程",
    "八一路某商铺装修工程",
    "曲水县某砂石厂",
    "林周县某农村公路项目",
    "尼木县某安居房工程",
    "金珠西路某酒店装修工程",
)

CONTRACTORS = ("王某", "李某", "赵某", "张某", "刘某", "陈某")


@dataclass(frozen=True)
class MediationSpec:
    parties: str
    agreements: tuple[str, ...]
    places: tuple[str, ...] = ("社区人民调解室", "院落议事点", "当事人家中")
    methods: tuple[str, ...] = ("in_person", "committee", "council")


@dataclass(frozen=True)
class Case:
    """One kind of real case. Each variant is a (title, description) pair that belongs
    together; any resolution fits any variant. Texts are templates filled per issue."""

    category: str
    variants: tuple[tuple[str, str], ...]
    resolutions: tuple[str, ...]
    weight: int = 10
    urgent_share: float | None = None  # None: the category's default urgency
    mediation: MediationSpec | None = None
    hazard_of: tuple[str, ...] = field(default=())  # patrol kinds that find it
    where: str = "both"  # "urban", "rural" or "both": no stairwells in a village


CASES: tuple[Case, ...] = (
    # --- 道路路面 ---------------------------------------------------------------------------
    Case(
        "road",
        (
            (
                "{courtyard}门口路面破损",
                "{resident}反映，{courtyard}门口约{n}米长的路面破损严重，坑洼处下雨后积水，"
                "老人和孩子出行容易摔倒。",
            ),
            (
                "院门口水泥路面开裂下沉",
                "{courtyard}门前巷道水泥路面开裂下沉，三轮车和电动车经过时颠簸，居民多次反映。",
            ),
            (
                "{courtyard}巷道路面坑洼",
                "网格员走访时发现{courtyard}通往主路的巷道有{n}处坑洼，雨后积满泥水。",
            ),
        ),
        (
            "已协调街道市政维修队对破损路面进行修补，修补面积约{n}平方米，现场验收平整。",
            "联系城管部门对破损路段重新硬化，施工期间设置了警示标志，现已完工。",
        ),
        hazard_of=("routine",),
    ),
    Case(
        "road",
        (
            (
                "{courtyard}院内地砖松动翘起",
                "{courtyard}院内地砖松动翘起{n}处，每天转经的老人多，已有老人绊倒，希望尽快修复。",
            ),
            (
                "巷道石板松动",
                "{courtyard}旁巷道石板松动，踩上去会晃动并溅出泥水，晚上看不清容易崴脚。",
            ),
        ),
        (
            "已请施工队重新铺设松动的石板和地砖{n}块，并用砂浆固定。",
            "松动和破损的铺装已全部更换，并对周边地面一并检查加固。",
        ),
        hazard_of=("routine",),
    ),
    Case(
        "road",
        (
            (
                "{courtyard}门前井盖松动",
                "{courtyard}门前的污水井盖松动，车辆压过时响声很大，夜里影响休息，也担心孩子踩空。",
            ),
            (
                "院内窨井盖破裂",
                "{resident}发现{courtyard}院内一个窨井盖破裂，已临时用砖块围挡，需要尽快更换。",
            ),
        ),
        ("已联系产权单位更换井盖并加装防坠网。", "市政部门已更换新井盖，网格员到现场确认安全。"),
        weight=6,
        urgent_share=0.5,
        hazard_of=("routine", "safety"),
    ),
    # --- 车辆停放（电动车） -------------------------------------------------------------------
    Case(
        "parking",
        (
            (
                "电动车在楼道内充电",
                "网格员走访发现{courtyard}{floor}楼道内停放{n}辆电动车，其中两辆正从家里"
                "拉线充电，堵塞了疏散通道。",
            ),
            (
                "{courtyard}居民在楼道给电动车充电",
                "{resident}反映，同单元有住户每晚把电动车推进楼道充电，担心发生火灾。",
            ),
        ),
        (
            "已上门劝导，车主将电动车移至院内集中停放点，讲解了楼道充电的火灾风险，"
            "并签订安全承诺书。",
            "社区协调在院内安装了{n}个智能充电桩，楼道内的电动车已全部清出。",
        ),
        weight=12,
        hazard_of=("safety",),
        where="urban",
    ),
    Case(
        "parking",
        (
            (
                "{courtyard}电动车乱停放",
                "{courtyard}院门口电动车和三轮车停放杂乱，早晚居民进出困难，"
                "有一次救护车差点进不来。",
            ),
            (
                "电动车、三轮车堵塞院门",
                "{resident}反映，院门口每天停着十几辆电动车和三轮车，老人推轮椅过不去。",
            ),
        ),
        (
            "在院内施划了电动车停放区，院落组长每天巡查，现已规范停放。",
            "协调在院外空地增设非机动车停放点，院门口已清理通畅。",
        ),
        hazard_of=("routine",),
    ),
    Case(
        "parking",
        (
            (
                "院内车辆占用消防通道",
                "{courtyard}院内消防通道被{n}辆私家车长期占用，{resident}担心发生火情时"
                "消防车进不来。",
            ),
        ),
        ("已联系车主挪走车辆，在消防通道两端设置了隔离桩和禁停标线。",),
        weight=5,
        hazard_of=("safety",),
        where="urban",
    ),
    Case(
        "parking",
        (
            (
                "僵尸车长期停放无人挪动",
                "{courtyard}内有一辆外地牌照面包车停放超过一个月无人挪动，占用车位且积满灰尘。",
            ),
            (
                "外来车辆长期占用院内车位",
                "{resident}反映有外来车辆长期停在{courtyard}院内，本院居民下班回来无处停车。",
            ),
        ),
        (
            "经交警协助联系到车主，车辆已移走。",
            "院落议事会商定了车辆登记办法，外来车辆登记后进入，问题已解决。",
        ),
        weight=5,
        where="urban",
    ),
    # --- 环境卫生 -----------------------------------------------------------------------------
    Case(
        "sanitation",
        (
            (
                "垃圾清运不及时",
                "{courtyard}门口的垃圾桶已经{days}天没有清运，垃圾堆到地上，天热后异味很大，"
                "还招来了流浪狗。",
            ),
            (
                "{courtyard}垃圾桶满溢",
                "{resident}反映，院内垃圾收集点每天只清运一次，傍晚就满溢，希望增加清运次数。",
            ),
        ),
        (
            "已联系环卫所将清运改为每天早晚各一次，并增设垃圾桶{n}个。",
            "环卫工人已清理积存垃圾，对收集点冲洗消毒，并调整为每天清运两次。",
        ),
        weight=12,
        hazard_of=("routine",),
    ),
    Case(
        "sanitation",
        (
            (
                "楼道堆放杂物",
                "{courtyard}楼道和楼梯转角堆放纸箱、旧家具等杂物，影响通行，也有火灾隐患。",
            ),
            (
                "{courtyard}公共区域堆放建筑垃圾",
                "有住户装修后把建筑垃圾堆在{courtyard}院内空地，已堆放{days}天，下雨后泥水横流。",
            ),
        ),
        (
            "组织院内居民开展卫生大扫除，清理杂物和垃圾{n}车。",
            "已督促相关住户清运，并在院内张贴了堆放物品的院落公约。",
        ),
        hazard_of=("safety", "routine"),
        where="urban",
    ),
    Case(
        "sanitation",
        (
            (
                "流浪狗聚集影响居民出行",
                "{courtyard}附近有{n}只流浪狗经常聚集，晚上吠叫，孩子上学路上很害怕。",
            ),
            (
                "院内流浪狗翻垃圾桶",
                "{resident}反映流浪狗翻垃圾桶，院内环境脏乱，老人出门转经也担心被咬。",
            ),
        ),
        (
            "联系街道和动物救助站将流浪狗送往救助站，并提醒居民不要随意投喂。",
            "协调救助站集中收容了{n}只流浪狗。",
        ),
        weight=5,
    ),
    Case(
        "sanitation",
        (
            (
                "公厕冲水设施损坏",
                "{courtyard}旁的公共厕所冲水设施损坏{days}天，异味严重，附近居民和游客意见很大。",
            ),
        ),
        ("已联系环卫部门维修冲水设施，并安排专人每天保洁。",),
        weight=4,
        where="urban",
    ),
    # --- 用电安全 -----------------------------------------------------------------------------
    Case(
        "electrical",
        (
            (
                "屋顶电线裸露",
                "网格员在{courtyard}巡查时发现屋顶一段电线绝缘层老化脱落，铜线裸露，"
                "旁边晾着衣物，下雨时有漏电危险。",
            ),
            (
                "{courtyard}屋顶电线被大风刮断",
                "{resident}反映{courtyard}屋顶的电线被大风刮断后搭在铁皮上，担心有人触电。",
            ),
            (
                "屋顶经幡杆旁电线破损",
                "{courtyard}屋顶经幡杆旁的电线被拉扯磨损，绝缘层破开约{n}厘米。",
            ),
        ),
        (
            "已请供电所电工断电后更换老化线路约{n}米，并加装PVC护套管。",
            "电工已将破损电线重新敷设固定，网格员现场确认没有裸露。",
        ),
        weight=12,
        hazard_of=("safety", "flood"),
    ),
    Case(
        "electrical",
        (
            (
                "老旧线路私拉乱接",
                "{courtyard}是老旧院落，部分住户私拉电线，线路杂乱缠绕在木梁上，存在火灾隐患。",
            ),
            (
                "院内飞线充电",
                "有住户从{floor}窗户拉电线到院里给电动车充电，电线横穿过道。",
            ),
        ),
        (
            "联合供电所对院内线路进行整治，拆除私拉电线{n}处。",
            "已拆除私拉的电线，引导住户到集中充电点充电。",
        ),
        hazard_of=("safety",),
        where="urban",
    ),
    Case(
        "electrical",
        (
            (
                "配电箱门损坏",
                "{courtyard}的公共配电箱门损坏无法关闭，孩子经常在旁边玩耍。",
            ),
            (
                "楼道电表箱冒火花",
                "{resident}反映{courtyard}楼道电表箱有焦糊味并冒火花，已通知住户不要靠近。",
            ),
        ),
        (
            "供电所已检修并更换配电箱，加锁并张贴了安全警示标识。",
            "电工检查发现接线端子松动烧蚀，已更换并做绝缘处理，箱门已修好上锁。",
        ),
        weight=6,
        hazard_of=("safety",),
        where="urban",
    ),
    Case(
        "electrical",
        (
            (
                "院内路灯不亮",
                "{courtyard}院内{n}盏路灯不亮已有一周，晚上漆黑，老人出门很不方便。",
            ),
        ),
        ("已联系路灯管理所更换灯具，恢复照明。",),
        weight=5,
        urgent_share=0.0,
        hazard_of=("routine",),
    ),
    # --- 排水积水 -----------------------------------------------------------------------------
    Case(
        "drainage",
        (
            (
                "暴雨后院内积水",
                "昨晚强降雨后，{courtyard}院内积水深约{n}厘米，几户低洼住户家中进水，"
                "老人被困在家中。",
            ),
            (
                "{courtyard}雨后积水严重",
                "雨季以来每次下大雨{courtyard}门口都积水，居民只能踩着砖块进出。",
            ),
        ),
        (
            "组织网格员和居民用抽水泵排除积水，协调市政部门疏通雨水管网{n}米。",
            "积水已排除，对院门口低洼处加高并新增排水口，再次降雨时未出现积水。",
        ),
        weight=12,
        hazard_of=("flood",),
    ),
    Case(
        "drainage",
        (
            (
                "下水道堵塞返水",
                "{courtyard}一楼住户的下水道堵塞返水，污水漫到院内，臭味很大。",
            ),
            (
                "排水沟被垃圾堵塞",
                "{courtyard}院内排水沟被生活垃圾和泥沙堵塞，排水不畅，已有污水外溢。",
            ),
        ),
        (
            "已联系市政排水所疏通管道{n}米，并加装了雨水篦子防止垃圾进入。",
            "组织人员清掏管道和排水沟，排水已恢复正常。",
        ),
        hazard_of=("flood", "routine"),
        where="urban",
    ),
    # --- 欠薪 ---------------------------------------------------------------------------------
    Case(
        "wage_arrears",
        (
            (
                "{people}名务工人员被拖欠工资",
                "{resident}等{people}名务工人员在{site}务工，包工头{contractor}拖欠{months}个月"
                "工资共计{amount}元，多次讨要未果。",
            ),
            (
                "包工头拖欠工资后失联",
                "{resident}反映，自己和同乡共{people}人在{site}干活，工程结束后工资{amount}元"
                "至今未结清，包工头{contractor}电话不接。",
            ),
        ),
        (
            "在劳动监察大队和社区协调下，施工单位已支付工资{recovered}元，"
            "{people}名务工人员均已领到。",
            "经调解，包工头{contractor}已通过银行转账支付拖欠工资{recovered}元，务工人员签字确认。",
        ),
        weight=7,
        mediation=MediationSpec(
            "务工人员代表{resident}；包工头{contractor}；施工单位项目负责人",
            (
                "施工单位同意在{days}日内分两次支付拖欠工资{amount}元，"
                "由社区和劳动监察大队监督履行。",
                "包工头{contractor}承认欠薪事实，承诺先支付{part}元，余款在工程款到账后一周内付清。",
            ),
            places=("社区人民调解室", "街道劳动保障所", "施工单位项目部"),
            methods=("committee", "council", "lawyer"),
        ),
    ),
    Case(
        "wage_arrears",
        (
            (
                "餐馆拖欠服务员工资",
                "{resident}等{people}人在北京东路一家餐馆做服务员，店主{contractor}拖欠{months}"
                "个月工资共{amount}元。",
            ),
            (
                "装修完工后拖欠工人工资",
                "{resident}等{people}人为{site}做装修，完工后老板{contractor}以质量问题为由"
                "拒付工资{amount}元。",
            ),
        ),
        ("经调解，雇主{contractor}已支付拖欠工资{recovered}元，当事人表示认可。",),
        weight=3,
        mediation=MediationSpec(
            "{resident}等{people}人；雇主{contractor}",
            (
                "雇主同意在{days}日内支付工资{amount}元。",
                "双方协商一致，雇主先支付{part}元，余款一周内结清。",
            ),
            places=("社区人民调解室", "街道劳动保障所"),
            methods=("in_person", "committee", "lawyer"),
        ),
        where="urban",
    ),
    # --- 矛盾纠纷 -----------------------------------------------------------------------------
    Case(
        "dispute",
        (
            (
                "楼上漏水纠纷",
                "{resident}反映楼上住户{other}家卫生间漏水，导致自家天花板和墙面发霉脱落，"
                "多次沟通未果，双方发生争吵。",
            ),
            (
                "{courtyard}卫生间漏水引发邻里矛盾",
                "{courtyard}{floor}住户{resident}反映楼上漏水已持续{months}个月，楼上住户{other}"
                "认为是公共管道的问题，不同意维修。",
            ),
        ),
        (
            "经社区调解，楼上住户已完成防水维修，并支付补偿{money}元，双方握手言和。",
            "漏水点已查明并修复，楼下住户确认不再渗水，双方无异议。",
        ),
        weight=6,
        mediation=MediationSpec(
            "{resident}（楼下住户）；{other}（楼上住户）",
            (
                "楼上住户负责请人维修卫生间防水，并补偿楼下住户天花板修补费用{money}元。",
                "双方同意共同请人检测漏水原因，属楼上住户责任的由其维修，费用两周内结清。",
            ),
        ),
        where="urban",
    ),
    Case(
        "dispute",
        (
            (
                "邻居打麻将噪音扰民",
                "{resident}反映邻居{other}家经常深夜打麻将、大声喧哗，影响家中老人和孩子休息，"
                "双方已多次争吵。",
            ),
            (
                "楼上深夜噪音扰民",
                "楼上住户{other}家每天晚上十一点后仍有拖动家具和跺脚的声音，{resident}上门"
                "沟通时发生口角。",
            ),
        ),
        (
            "经调解双方达成协议，噪音问题已明显改善。",
            "{other}已按约定整改，{resident}表示可以接受。",
        ),
        weight=5,
        mediation=MediationSpec(
            "{resident}；{other}（邻居）",
            (
                "双方约定晚上十点半以后不再发出明显噪音，{other}在家中铺设地垫。",
                "{other}承诺晚上十点半以后保持安静，双方互相谅解。",
            ),
        ),
        where="urban",
    ),
    Case(
        "dispute",
        (
            (
                "{courtyard}住户搭棚占用公共空间",
                "{courtyard}住户{other}在院内公共区域搭建简易棚子堆放杂物，占用了晾晒和转经的"
                "空间，{resident}等住户意见很大。",
            ),
        ),
        ("简易棚子已拆除，公共空间恢复使用，院内居民均表示满意。",),
        weight=3,
        mediation=MediationSpec(
            "{resident}等{n}户居民；{other}",
            (
                "{other}同意在{days}日内自行拆除棚子，院落议事会重新划分公共区域的使用。",
                "{other}同意拆除棚子，杂物移至自家院内，公共区域由院落组长统一管理。",
            ),
            methods=("council", "in_person"),
        ),
    ),
    Case(
        "dispute",
        (
            (
                "院内晾晒区域纠纷",
                "{courtyard}几户居民因晾晒区域划分发生争执，{resident}与{other}两家互不相让。",
            ),
        ),
        ("院落公约已张贴执行，晾晒区域的纠纷已化解。",),
        weight=2,
        mediation=MediationSpec(
            "{resident}；{other}",
            ("经院落议事会商议，公共晾晒区域按户轮流使用，并张贴院落公约。",),
            methods=("council", "in_person"),
        ),
    ),
    Case(
        "dispute",
        (
            (
                "房屋租赁押金纠纷",
                "租户{resident}退租后，房东{other}以墙面损坏为由扣留押金{money}元，双方争执不下。",
            ),
        ),
        ("房东已按协议退还押金，纠纷化解。",),
        weight=3,
        mediation=MediationSpec(
            "{resident}（租户）；{other}（房东）",
            ("房东退还大部分押金，其余用于修补墙面，双方签字确认。",),
            methods=("in_person", "committee", "phone"),
        ),
        where="urban",
    ),
    Case(
        "dispute",
        (
            (
                "新建院墙引发邻里纠纷",
                "{resident}与邻居{other}因新建院墙的位置发生争执，双方各执一词，"
                "已影响两家正常往来。",
            ),
        ),
        ("院墙已按测量结果调整，双方在调解书上签字，纠纷化解。",),
        weight=3,
        mediation=MediationSpec(
            "{resident}；{other}（邻居）",
            ("请村（居）两委和司法所现场测量，按宅基地证确定界线，{other}家院墙后退半米。",),
            places=("村（居）委会", "当事人家中", "司法所"),
            methods=("committee", "in_person"),
        ),
        where="rural",
    ),
    # --- 微心愿 -------------------------------------------------------------------------------
    Case(
        "micro_wish",
        (
            (
                "为行动不便的老人申请轮椅",
                "{courtyard}独居老人{resident}今年{age}岁，腿脚不便，希望有一辆轮椅，"
                "方便到院子里晒太阳、转经。",
            ),
        ),
        (
            "社区联系爱心企业认领了微心愿，已将轮椅送到老人家中。",
            "志愿者认领了这个微心愿，轮椅已送达。",
        ),
        weight=4,
    ),
    Case(
        "micro_wish",
        (
            (
                "困难家庭孩子需要学习用品",
                "{resident}家有{kids}个孩子在上学，家庭困难，希望得到书包、文具和一张书桌。",
            ),
        ),
        ("辖区共建单位认领了微心愿，送去了书包、文具、书桌和课外书。",),
        weight=3,
    ),
    Case(
        "micro_wish",
        (
            (
                "老人希望有一台助听器",
                "{resident}老人今年{age}岁，听力下降，和家人沟通困难，希望有一台助听器。",
            ),
            (
                "冬季取暖需要电暖器",
                "{resident}家老人今年{age}岁，怕冷，家里没有取暖设备，希望得到一台电暖器。",
            ),
        ),
        ("爱心人士认领了微心愿，已送到家中并教会老人使用。",),
        weight=3,
    ),
    # --- 居民参与 -----------------------------------------------------------------------------
    Case(
        "participation",
        (
            (
                "居民希望参与院落改造方案讨论",
                "{courtyard}列入老旧院落改造计划，{resident}希望改造前征求全院居民意见。",
            ),
        ),
        ("已召开院落议事会，{n}户居民参加，改造方案公示后实施。",),
        weight=2,
    ),
    Case(
        "participation",
        (
            (
                "建议在院内增设健身器材",
                "{courtyard}院内老人较多，{resident}建议在空地增设健身器材和休息座椅。",
            ),
        ),
        ("社区已将建议纳入年度为民办实事项目，健身器材和座椅已安装。",),
        weight=2,
    ),
    Case(
        "participation",
        (
            (
                "建议开展防诈骗宣传",
                "近期院内有老人接到冒充公检法的诈骗电话，{resident}建议在院内开展防诈骗宣传。",
            ),
        ),
        ("社区联合派出所在院内开展防诈骗宣传，发放资料{n}份。",),
        weight=2,
    ),
    # --- 其他 ---------------------------------------------------------------------------------
    Case(
        "other",
        (
            (
                "独居老人需要定期探望",
                "{courtyard}的{resident}老人今年{age}岁，独居，子女在外地工作，邻居反映老人最近"
                "身体不太好。",
            ),
        ),
        ("已将老人纳入重点关爱对象，网格员每周上门探望一次，并留下联系电话。",),
        weight=3,
    ),
    Case(
        "other",
        (
            (
                "老旧房屋墙体出现裂缝",
                "{courtyard}一处老旧藏式房屋墙体出现裂缝，{resident}担心雨季倒塌。",
            ),
        ),
        ("住建部门已到现场鉴定，对墙体进行了加固。",),
        weight=3,
        urgent_share=0.3,
        hazard_of=("safety", "flood"),
    ),
    Case(
        "other",
        (("单元门禁损坏", "{courtyard}单元门禁损坏，外来人员随意进出，居民担心安全。"),),
        ("已联系产权单位更换门禁。",),
        weight=2,
        where="urban",
    ),
    Case(
        "other",
        (("流动摊贩占道经营", "{courtyard}门口流动摊贩占道经营，早晚堵塞通道。"),),
        ("城管部门已劝离摊贩，并引导其到便民市场经营。",),
        weight=2,
        where="urban",
    ),
)

COMMENTS = (
    "已电话联系居民，约定明天上门查看。",
    "已到现场拍照取证。",
    "已上报街道相关科室，等待回复。",
    "居民补充说明了情况，问题比原来反映的严重。",
    "已联系产权单位，对方答应本周内处理。",
    "院落组长帮忙协调，住户同意配合。",
)

HANDLE_NOW_NOTES = ("紧急情况立即办，已通知相关部门到场。", "先行处置，已设置警示标志。", "")

START_NOTES = ("", "已到现场查看。", "已联系相关部门。", "")

FOLLOW_UP_SATISFIED = (
    "居民表示问题已解决，对处理结果满意。",
    "上门查看，整改效果保持良好。",
    "居民表示满意，感谢社区。",
    "居民表示基本满意，希望以后定期检查。",
)

FOLLOW_UP_SATISFIED_BY_CATEGORY = {
    "dispute": ("双方均按协议履行，邻里关系缓和。", "回访时两家相处正常，未再发生争执。"),
    "wage_arrears": ("务工人员确认工资已全部到账。", "当事人表示钱已拿到，对调解结果满意。"),
    "micro_wish": ("老人很高兴，心愿已经实现。", "家属表示物品很实用，感谢爱心人士。"),
}

FOLLOW_UP_UNSATISFIED = {
    "dispute": "对方没有按协议履行，矛盾有反复。",
    "wage_arrears": "余款至今没有到账，务工人员不满意。",
}
FOLLOW_UP_UNSATISFIED_DEFAULT = "居民反映问题又出现了，要求重新处理。"

PATROL_NOTES = {
    "routine": (
        "例行巡查{grid}各大院，走访居民{n}户。",
        "周例行巡查，重点查看道路、垃圾收集点和公共设施。",
    ),
    "flood": (
        "强降雨后巡查排水情况，重点查看低洼院落和排水沟。",
        "汛期巡查：雨水篦子、地下室和危旧房屋。",
    ),
    "safety": (
        "节前安全巡查：用电、燃气、消防通道。",
        "消防安全巡查，重点查看楼道电动车充电和私拉电线。",
    ),
}
