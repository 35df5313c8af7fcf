//! The word lists of hot-issue mining: stop words, place endings, and the words that end like a
//! place but name none.

use super::text::Level;

/// Function words, plus the words every appeal uses whatever it is about (greetings, forms of
/// address, "please solve it"). Left in, they would make unrelated appeals look alike.
pub(crate) const STOP_WORDS: &str = "的 了 是 在 和 与 及 或 也 都 就 还 又 而 但 但是 可是 而且 并且 如果 因为 所以 \
虽然 虽说 即使 由于 为了 关于 对于 对 把 被 让 给 向 从 到 于 以 为 按 按照 根据 通过 等 等等 这 那 \
这个 那个 这些 那些 这样 那样 这种 那种 这里 那里 这边 什么 怎么 怎么办 为什么 如何 哪里 哪些 多少 \
我 我们 你 你们 您 他 他们 她 它 它们 自己 大家 本人 有 没有 没 无 不 不是 是否 能否 可以 能 能够 \
会 要 应该 应 需要 必须 已经 已 正在 现在 目前 之前 以后 之后 以前 一直 一下 一些 一个 一次 一样 \
其他 其中 很多 许多 所有 各种 每天 一天 还是 只是 不能 不要 得到 进行 出现 存在 甚至 非常 特别 \
真的 实在 到底 究竟 难道 其实 而是 然后 以及 此 该 本 其 吗 呢 吧 啊 呀 嘛 哦 整个 附近 周边 \
您好 你好 请问 请 领导 尊敬 书记 市长 局长 区长 省长 县长 主任 各位 领导干部 同志 谢谢 感谢 \
此致 敬礼 希望 问题 反映 反应 相关 相关部门 有关部门 部门 政府 市政府 市民 群众 老百姓 百姓 \
情况 投诉 举报 咨询 请求 要求 强烈要求 恳请 敬请 麻烦 帮忙 帮助 解决 处理 尽快 及时 落实 关注 \
重视 调查 回复 答复 诉求 建议 严重 影响 生活 正常 无法 根本 管理 工作 知道 觉得 认为 感觉 看到 \
发现 表示 告诉 说 问 想 今年 去年 时候 时间 期间 小时 最近 近期 长期 每年 多次 几年 年 月 日 \
一名 范围 范围内 小区 社区 事情 方面 原因 办法 地方 结果 希望能 是不是 有没有 怎样 居民 业主 住户";

/// Tags of words that never carry the matter: pronouns, prepositions, conjunctions, particles,
/// adverbs, numerals, measure words, interjections, onomatopoeia and locality words (上, 内).
pub(crate) const DROPPED_TAGS: &[&str] = &[
    "r", "p", "c", "u", "uj", "ul", "uz", "ud", "ug", "uv", "y", "d", "m", "mq", "q", "e", "o", "f",
];

/// Endings that make a word a place, with their level. Longer endings come first so that 街道
/// wins over 道.
pub(crate) const SUFFIXES: &[(&str, Level)] = &[
    ("街道", Level::Town),
    ("大道", Level::Road),
    ("小区", Level::Site),
    ("社区", Level::Site),
    ("花园", Level::Site),
    ("家园", Level::Site),
    ("公寓", Level::Site),
    ("大厦", Level::Site),
    ("广场", Level::Site),
    ("学校", Level::Site),
    ("学院", Level::Site),
    ("院校", Level::Site),
    ("大学", Level::Site),
    ("中学", Level::Site),
    ("小学", Level::Site),
    ("幼儿园", Level::Site),
    ("医院", Level::Site),
    ("卫生院", Level::Site),
    ("市场", Level::Site),
    ("公园", Level::Site),
    ("山庄", Level::Site),
    ("公馆", Level::Site),
    ("水岸", Level::Site),
    ("半岛", Level::Site),
    ("名邸", Level::Site),
    ("华庭", Level::Site),
    ("豪庭", Level::Site),
    ("省", Level::Province),
    ("市", Level::City),
    ("州", Level::City),
    ("区", Level::County),
    ("县", Level::County),
    ("镇", Level::Town),
    ("乡", Level::Town),
    ("村", Level::Site),
    ("苑", Level::Site),
    ("园", Level::Site),
    ("府", Level::Site),
    ("城", Level::Site),
    ("湾", Level::Site),
    ("路", Level::Road),
    ("街", Level::Road),
    ("巷", Level::Road),
    ("桥", Level::Road),
    ("站", Level::Site),
];

/// Words with a place ending that name no particular place (城市, 全区, 我市, 学校 alone...).
pub(crate) const GENERIC_PLACES: &str = "城市 全市 我市 本市 该市 市里 超市 门市 上市 城区 全区 本区 该区 \
地区 社区 小区 园区 辖区 景区 校区 山区 郊区 市区 片区 街区 区域 县城 全县 本县 该县 县里 全省 \
本省 外省 我省 各省 省里 全国 道路 马路 公路 思路 线路 出路 网路 铁路 学校 学院 院校 大学 中学 \
小学 医院 公园 花园 家园 校园 乐园 农村 乡村 村里 村村 新村 乡镇 城乡 城镇 车站 网站 站点 省城 \
进城 新城 老城 政府 菜园 果园 家乡 老乡 下乡 回乡 套路 走路 一路 半路 水路 电路 退路 门路 \
销路 修路 让路 带路 长城 古城 京城 影城 商城 开发区 新校区 老校区 本村 全村 该村";

/// Endings of facilities and offices that are what an appeal is about (the 公交站 to be built,
/// the 垃圾站 that smells) or whom it is addressed to (市政府), not where it is.
pub(crate) const GENERIC_ENDINGS: &[&str] = &[
    "政府",
    "公交站",
    "加油站",
    "垃圾站",
    "充电站",
    "收费站",
    "中转站",
    "地铁站",
    "火车站",
    "汽车站",
    "派出所",
    "委员会",
    "管理局",
    "家乡",
    "老乡",
    "下乡",
    "回乡",
];

/// Time words that never start a place name; see `is_name_part`.
pub(crate) const TIME_WORDS: &[&str] = &[
    "今天", "昨天", "明天", "前天", "晚上", "早上", "凌晨", "白天", "周末", "深夜", "夜间", "上午",
    "下午", "中午", "傍晚", "半夜", "夜里", "当天", "每晚", "平时", "过年", "春节", "寒假", "暑假",
];
/// Characters of function words; see `is_name_part`.
pub(crate) const FUNCTION_CHARS: &str =
    "有在去到内问向往找住买来从是的了和与对给被把让也都就还又我你他们这那";
