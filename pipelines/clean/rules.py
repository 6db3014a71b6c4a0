"""The cleaner's vocabulary: boilerplate and metadata patterns as data.

Patterns are written once, in Simplified characters; :func:`script_neutral`
compiles each so that it matches the Traditional forms too (责任编辑 matches
責任編輯), using OpenCC's own character table. The cleaner applies the rules in
the order of :data:`LINE_RULES`; adding a site's boilerplate is adding a row.

Actions:

``drop``      the line is boilerplate; remove it.
``cut_tail``  the line starts the page's tail (related links, copyright, comments);
              remove it and everything after it - when it lies in the last part of
              the text. Earlier in the text it is treated as ``section``.
``section``   remove the line and the list that follows it (bulleted, indented or
              short link-like lines).
``lift``      the line carries metadata: named groups become fields, the line goes.
``byline``    a line of ``key: value`` pairs (发布时间/来源/作者/...): every pair is
              lifted, the line goes.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

__all__ = ["ROLE", "NAME", "Rule", "LINE_RULES", "BYLINE_KEYS", "TITLE_LEADINS", "TAIL_START", "script_neutral"]

# Dates as they appear in bylines: 2019-06-13, 2019/6/13, 2019.06.13, 2019年6月13日, with an optional time.
DATE = r"(?P<published>(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?)(?:\s*\d{1,2}[:时]\d{2}(?:[:分]\d{2})?秒?)?"
# A person's name in a byline: 2-4 Han characters (a middle dot allowed for transliterated names).
NAME = r"[\u4e00-\u9fff][\u4e00-\u9fff·]{1,5}"
COLON = r"\s*[::]\s*"
# Who wrote it: 本报记者, 通讯员, 作者 ... ; 文 and 图 only with a separator (文化引领 is no byline).
ROLE = r"(?:(?:本报|本台|本网|新华社|人民网)?(?:特约)?(?:记者|通讯员|评论员|作者|撰稿|实习生)\s*[::/|]?|(?:文/图|文|图)\s*[::/|])"
# For lines of several roles and names, written so that a line splits into roles and names in
# ONE way: a name contains no role word, and a role's spaces belong to it only before a colon.
# Otherwise "本报记者 本报记者 ... x" or "本报记者 张三 " * 40 + "。" splits in exponentially many
# ways and the regex engine backtracks through all of them (a 60-character line took minutes).
_ROLE_WORD = r"(?:本报|本台|本网|新华社|人民网|特约|记者|通讯员|评论员|作者|撰稿|实习生)"
BYLINE_NAME = r"(?!" + _ROLE_WORD + r")[\u4e00-\u9fff](?:(?!" + _ROLE_WORD + r")[\u4e00-\u9fff·]){1,5}"
BYLINE_ROLE = r"(?:(?:本报|本台|本网|新华社|人民网)?(?:特约)?(?:记者|通讯员|评论员|作者|撰稿|实习生)(?:\s*[::/|])?|(?:文/图|文|图)\s*[::/|])"


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: str
    action: str
    #: For ``lift``: the field a pattern without named groups fills with the whole match of group 1.
    field: str | None = None


LINE_RULES: tuple[Rule, ...] = (
    # 1. Navigation and page furniture.
    Rule("breadcrumb", r"^(?:当前位置|您现在的位置|你现在的位置|您的位置|现在位置)[::]?", "drop"),
    Rule("qr-code", r"^扫一扫在手机(?:上)?打开当前页", "drop"),
    Rule("print-close", r"^[\[【(]?\s*(?:打印本页|打印|关闭窗口|关闭|返回顶部|收藏|纠错|我要纠错)\s*[\]】)]?(?:\s*[\[【(]?\s*(?:打印本页|打印|关闭窗口|关闭|返回顶部|收藏|纠错)\s*[\]】)]?)*$", "drop"),
    Rule("font-size", r"^[\[【(]?\s*(?:字体|字号)[::]?\s*[\[【]?大[\]】]?\s*[\[【]?中[\]】]?\s*[\[【]?小[\]】]?\s*[\]】)]?", "drop"),
    Rule("share", r"^分享到[::]?", "drop"),
    Rule("prev-next", r"^(?:上一篇|下一篇)[::]", "drop"),
    Rule("contact", r"^(?:[\u4e00-\u9fff]{0,10})(?:联系电话|联系方式|服务电话|举报电话|电话|传真|邮编|电子邮箱|邮箱|地址)[::]\s*[\d\-()()\s转、,/]{5,}", "drop"),
    Rule("icp", r"(?:ICP备|ICP证|网安备|公网安备)\s*\d", "drop"),
    Rule("photo-credit", r"^(?:本版摄影|本版图片|图片摄影|摄影)[::\s]", "drop"),
    Rule("legal-counsel", r"法律顾问(?:单位)?[::]", "drop"),
    Rule("mood", r"^查看心情排行", "cut_tail"),
    # 2. The page's tail: related links, copyright, comments.
    Rule("related", r"^[【\[]?(?:相关焦点|相关阅读|相关新闻|相关链接|相关文章|相关报道|延伸阅读|推荐阅读|热点推荐|更多新闻)[】\]]?[::]?$", "cut_tail"),
    Rule("copyright", r"^(?:版权声明|版权所有|Copyright|©|\(c\))", "cut_tail"),
    Rule("copyright-line", r"(?:版权所有|All Rights Reserved)", "drop"),
    Rule("comments", r"^(?:网友评论|发表评论|我要评论|评论区|全部评论|已有\d+人参与)", "cut_tail"),
    # 3. Metadata lines.
    Rule("original-title", r"^原标题" + COLON + r"(?P<original_title>.+)$", "lift"),
    Rule("summary", r"^(?:摘要|内容摘要|导读)" + COLON + r"(?P<summary>.+)$", "lift"),
    Rule("editor", r"^[\[【(]?\s*(?:责任编辑|责编|编辑)" + COLON + r"(?P<editor>" + NAME + r"(?:[\s、,]+" + NAME + r")*)\s*[\]】)]?$", "lift"),
    Rule("date-source-header", r"^" + DATE + r"\s+(?P<source_name>[^\s\d:][^\s:]{1,24})$", "lift"),
    Rule("date-alone", r"^" + DATE + r"$", "lift"),
    Rule("author-line", r"^[■□●◆▲]?\s*(?P<authors>(?:" + BYLINE_ROLE + r"\s*" + BYLINE_NAME + r"(?:[\s、,]+" + BYLINE_NAME + r")*\s*)+)$", "lift"),
    Rule("byline", r"(?:发布时间|发布日期|发表时间|时间|日期|来源|信息来源|文章来源|作者|编辑|责任编辑|浏览次数|点击数|阅读次数)" + COLON, "byline"),
    # 4. Seen in text extracted from news and government pages (benchmarks/extraction.py).
    Rule("reprint-notice", r"^(?:原创版权禁止商业转载|转载申请事宜|未经(?:本网)?授权[,，]?(?:禁止|不得)转载|转载请注明(?:出处|来源))", "drop"),
    Rule("follow-account", r"^(?:关注|扫码关注|欢迎关注)(?:微信)?(?:公众号|官方微信|微博)[::]", "drop"),
    Rule("date-then-source", r"^" + DATE + r"\s*[|｜]?\s*(?:来源|信息来源|稿件来源)" + COLON + r"(?P<source_name>[^\s:|]{2,24})$", "lift"),
    Rule("outlet-reporter", r"^(?:[\u4e00-\u9fff]{1,6}\s+)?[\u4e00-\u9fff·]{1,12}[报网社台点端刊闻](?:特约)?(?:记者|通讯员)\s*(?P<authors>" + NAME + r"(?:[\s、,]+" + NAME + r")*)$", "lift"),
    Rule("breadcrumb-home", r"^(?:位置|所在位置|当前页面|当前栏目)[::]?\s*首页", "drop"),
    Rule("bookmark-home", r"^.{0,20}(?:设为首页|加入收藏|添加收藏夹).{0,20}$", "drop"),
    Rule("load-more", r"^(?:加载更多|查看更多|点击加载更多|更多>>)$", "cut_tail"),
    Rule("hot-lists", r"^(?:热帖|热词|热门排行|热点排行|热门文章|排行榜|24小时排行|点击排行|热门推荐)$", "cut_tail"),
    Rule("list-dash", r"^[-—·•]$", "drop"),
    Rule("dated-list-item", r"^[-—·•]\s*(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?$", "drop"),
    Rule("teaser-more", r"[【\[]详细[】\]]$", "drop"),
    # a credit alone on its line: "(袁源)" (the trailing-author step only sees it after a sentence)
    Rule("bracketed-author", r"^[(（](?!图文|待续|未完|完|续|摘编|综合|编译|原创|转载|视频|图片|资料|全文|附件)"
         r"(?P<authors>[\u4e00-\u9fff]{2,3}(?:[\s、,，][\u4e00-\u9fff]{2,3}){0,3})\s*[)）]$", "lift"),
)

#: Keys of ``key: value`` byline lines and the field each fills (None: dropped).
BYLINE_KEYS: dict[str, str | None] = {
    "发布时间": "published", "发布日期": "published", "发表时间": "published",
    "时间": "published", "日期": "published",
    "来源": "source_name", "信息来源": "source_name", "文章来源": "source_name",
    "作者": "authors", "编辑": "editor", "责任编辑": "editor",
    "浏览次数": None, "点击数": None, "阅读次数": None, "字号": None,
}

#: Where a run-on first line (document-sharing sites lose line breaks) leaves the
#: title and starts the report: the report's usual opening phrases.
TITLE_LEADINS: tuple[str, ...] = (
    "习近平总书记", "习近平同志", "近年来", "今年以来", "近日", "日前", "本报讯", "据悉", "为深入", "为进一步",
    "为认真", "为全面", "为切实", "党的十八大以来", "党的十九大以来", "党的二十大以来",
)

#: A ``cut_tail`` rule only cuts when its line starts after this share of the text.
TAIL_START = 0.4


@functools.lru_cache(maxsize=1)
def _traditional_variants() -> dict[str, str]:
    """Simplified char -> all Traditional chars that convert to it (OpenCC's TSCharacters)."""
    # opencc-python-reimplemented ships the dictionary files as package data
    path = resources.files("opencc") / "dictionary" / "TSCharacters.txt"
    variants: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        trad, _, simp = line.partition("\t")
        for s in simp.split():
            if len(s) == 1 and len(trad) == 1 and trad != s:
                variants[s] = variants.get(s, "") + trad
    return variants


def script_neutral(pattern: str) -> str:
    """Rewrite a Simplified pattern so each Han character also matches its Traditional forms."""
    variants = _traditional_variants()
    out, in_class, escaped = [], False, False
    for ch in pattern:
        if escaped:
            out.append(ch)
            escaped = False
            continue
        if ch == "\\":
            escaped = True
            out.append(ch)
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        extra = variants.get(ch)
        if extra:
            out.append(ch + extra if in_class else f"[{ch}{extra}]")
        else:
            out.append(ch)
    return "".join(out)


@functools.lru_cache(maxsize=None)
def compiled(pattern: str) -> re.Pattern:
    return re.compile(script_neutral(pattern))
