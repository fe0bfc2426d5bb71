"""Words that say how a question is asked, not what it is about.

The matcher drops them after segmentation (``Matcher.words``): weighting them would let a
question match whatever entry happens to share its phrasing. A word list apart from the
matcher, so it can be read and extended without reading the scoring code.
"""

__all__ = ["STOPWORDS"]

_ASKING_ZH = """
的 了 吗 呢 吧 啊 呀 哦 嘛 么 我 我们 你 你们 您 他 她 它 咱 咱们 是 在 有 和 与 及 或 或者
也 都 就 还 又 把 被 给 让 对 从 向 到 去 来 这 那 这个 那个 这些 那些 哪 哪个 哪些 哪里
哪儿 什么 啥 怎么 怎么样 怎样 如何 怎么办 咋 咋办 咋样 为什么 为啥 多少 几 多 能 能不能 可以
可不可以 可否 会 要 想 需要 需不需要 应该 得 没 没有 有没有 是不是 是否 不 一下 要是 如果
假如 万一 自己 他们 她们 它们 一些 一点 个 请 请问 问 问问 知道 了解 告诉 下 上 里 中 些 等
之 其 以 及其 并 而 但 但是 的话 时候 现在 目前 今年 具体 相关 方面 情况 问题 事 事情 东西
一 个人 人家 已经 刚 刚刚 能否 嗯 好 好的 行 这边 那边
"""
"""Chinese words that ask, point or connect (的, 怎么, 能不能, 请问)."""

_ASKING_EN = """
how do does did i me my we our us you your is are am was were be been being can could would
should will what which where when who whom why the a an to for of in on at by with about any
there this that these those it its please tell know want wants need needs get got have has
had as if so and or not no yes here they them their he she him her his hers from into some
more most also just like much many there's what's i'm it's anyone someone something up out
re m d ll ve s t im id dont hi hello thanks
"""
"""The same in English, as people type it (apostrophes kept or dropped)."""

_NO_TOPIC = """
else apart besides other others actually really too very still only even again thing things
stuff anything everything own eventually maybe perhaps probably basically currently
"""
"""Words that never name a topic, so a follow-up made of them ("anything else?") is not
about an unknown one; hedges and "own" too ("I want to start my own company eventually" leaned
to the title appraisal "its own" names; tune halves: one follow-up more right on blind5)."""

_DISTRICT = """
南湖 南湖新区 新区 岳阳 岳阳市 本区 咱区 咱们区 贵区 你们区 区里 nanhu yueyang zone district
"""
"""The district's own names: every question here is about it, so they tell entries apart
no more than 的 does."""

STOPWORDS = frozenset((_ASKING_ZH + _ASKING_EN + _NO_TOPIC + _DISTRICT).split())
"""Every word above; ``Matcher.words`` keeps a segment only when it is not one of these."""
