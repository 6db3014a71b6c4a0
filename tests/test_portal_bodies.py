"""Bodies on news portals: related-news and 热点 lists, comment blocks, share bars, "more news"
boxes and article-end recommendation feeds stay out; a WeChat-style article of many small
<section>/<p> blocks stays whole. The pages are written in each portal's layout (the
containers and block names of pipelines/data/body_containers.txt and noise_blocks.txt)."""

from __future__ import annotations

import pytest

from pipelines.documents import document_from_html

P = [
    "近日，某某市人民检察院召开党建工作推进会，总结上半年党建工作，部署下半年重点任务。",
    "会议强调，要坚持以高质量党建引领检察工作高质量发展，把党建工作与检察业务深度融合。",
    "会上，各支部书记围绕支部建设、党员教育管理和业务融合等方面作了交流发言，分享了经验做法。",
    "检察长在讲话中指出，要持续深化模范机关创建，推动全面从严治党向纵深发展，锻造过硬检察队伍。",
]
BODY = "".join(f"<p>{p}</p>" for p in P)
RELATED = "".join(f"<li><a href='/n/{i}.html'>某地开展第{i}期法治宣传进社区活动取得实效</a></li>" for i in range(8))
FEED = "".join(f"<div class='feed-item'><h3><a href='/f/{i}.html'>推荐阅读第{i}条新闻的标题文字</a></h3>"
               f"<p>这是一条推荐新闻的摘要文字，介绍了另一件与本文无关的事情，篇幅不短，第{i}条。</p></div>"
               for i in range(6))
COMMENTS = "".join(f"<div class='comment-item'><span class='user'>网友{i}</span><p>我认为这篇报道写得很好，"
                   f"检察机关的党建工作做得扎实，希望继续加强，第{i}条评论的内容比较长一些。</p></div>" for i in range(6))


def wrap(body: str, title: str = "某某市人民检察院召开党建工作推进会") -> str:
    return (f"<html><head><meta charset='utf-8'><title>{title}_新闻中心</title></head><body>"
            f"<div class='nav'><a href='/'>首页</a> <a href='/news/'>新闻</a></div><h1>{title}</h1>{body}"
            "<div class='footer'>版权所有 某某网</div></body></html>")


PAGES = {
    "sina": wrap(f"<div class='article' id='artibody'>{BODY}<div class='appendQr_wrap'>扫描二维码关注</div>"
                 "<p class='show_author'>责任编辑：张三</p></div>"
                 f"<div class='article-bottom'><div class='blk-related'><h2>相关新闻</h2><ul>{RELATED}</ul></div></div>"
                 f"<div id='sina-comment-wrap'><h2>评论</h2>{COMMENTS}</div>"),
    "163": wrap(f"<div class='post_body'>{BODY[:len(BODY) // 2]}<div class='post_top_share'>分享到：微信 微博 QQ空间</div>"
                f"{BODY[len(BODY) // 2:]}</div><div class='post_recommends'><h3>热点推荐</h3>{FEED}</div>"
                f"<div class='tie-area'><h3>跟贴</h3>{COMMENTS}</div>"),
    "guancha": wrap(f"<div class='content all-txt'>{BODY}</div><div class='fenxiang'>分享</div>"
                    f"<div class='comment-list'><h3>最新评论</h3>{COMMENTS}</div>"
                    f"<div class='module-news-list'><h3>更多新闻</h3><ul>{RELATED}</ul></div>"),
    # no known container: the trafilatura step, with a 热点 box and an article-end feed
    "portal": wrap(f"<div class='main'><div class='article-main'>{BODY}</div>"
                   f"<div class='hot-list'><h3>热点</h3><ul>{RELATED}</ul></div>"
                   f"<div class='more-news'><h3>更多新闻</h3><ul>{RELATED}</ul></div>"
                   f"<div class='feed-list'>{FEED}</div><div class='cmt-box'>{COMMENTS}</div></div>"),
    "stcn": wrap(f"<div class='detail-content'>{BODY}</div><div class='social-share'>分享到</div>"
                 f"<div class='detail-recommend'><div class='title'>相关阅读</div>{FEED}</div>"
                 f"<div class='hot-article'><div class='title'>热点</div><ul>{RELATED}</ul></div>"),
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_portal_body_is_the_report_only(name):
    doc = document_from_html(PAGES[name], url=f"https://news.example.cn/{name}/2024-05-10/doc-1.shtml")
    assert doc.text.split("\n") == [p.replace("，", ",") for p in P], doc.provenance["body"]
    for noise in ("相关新闻", "法治宣传进社区", "推荐阅读", "推荐新闻的摘要", "网友", "评论", "分享到", "热点", "更多新闻"):
        assert noise not in doc.text, noise


def test_sina_editor_is_read_from_the_body_end():
    doc = document_from_html(PAGES["sina"])
    assert doc.editor == "张三"


LINES = ["以高质量党建", "引领检察工作", "高质量发展。", "今年以来，", "某某县人民检察院", "党支部坚持", "把党建工作",
         "与检察业务", "同谋划、同部署，", "推动党建和业务", "深度融合。"]


def test_wechat_article_of_many_small_blocks_is_kept_whole():
    sections = "".join(f"<section style='margin:0'><section><p><span style='font-size:15px'>{s}</span></p></section>"
                       f"</section>" for s in LINES * 6)
    html = ("<html><head><meta charset='utf-8'><title>党建引领 | 某某检察</title>"
            "<meta property='og:title' content='党建引领检察工作高质量发展'></head><body>"
            "<div id='js_article' class='rich_media'><h2 class='rich_media_title' id='activity-name'>党建引领检察工作高质量发展</h2>"
            "<div id='meta_content'><a id='js_name'>某某检察</a> <em id='publish_time'>2024-05-10 08:30</em></div>"
            # the page hides its body until its script has run
            f"<div class='rich_media_content' id='js_content' style='visibility: hidden; opacity: 0;'>{sections}</div>"
            "<div id='js_pc_qr_code'>微信扫一扫关注该公众号</div><div class='rich_media_tool'>阅读 2000 在看 30</div>"
            "</div></body></html>")
    doc = document_from_html(html, url="https://mp.weixin.qq.com/s/abcdef")
    text = doc.text.replace("\n", "")
    assert text == "".join(LINES * 6).replace("，", ",")
    assert doc.title == "党建引领检察工作高质量发展" and "扫一扫" not in doc.text
