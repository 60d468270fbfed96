/* Unit tests of the social profile chosen among several links of each network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "extract.h"

#ifndef WF4_PAGES_DIR
#error "WF4_PAGES_DIR must name tests/data/pages"
#endif

/* A page of links (hrefs '|'-joined, in page order) and the five profiles wanted. */
typedef struct social_case {
    const char *name, *links;
    const char *facebook, *twitter, *linkedin, *instagram, *youtube;
} social_case;

static const social_case cases[] = {
    {"issue 22: tweet before the profile",
     "https://twitter.com/brand/status/1789012345678901234|https://twitter.com/brand", NULL,
     "https://twitter.com/brand", NULL, NULL, NULL},
    {"only a tweet: its author",
     "https://twitter.com/intent/tweet?text=hi|https://twitter.com/brand/status/17?s=20", NULL,
     "https://twitter.com/brand", NULL, NULL, NULL},
    {"x.com and twitter.com one network: the profile wins over an earlier post",
     "https://x.com/intent/follow?screen_name=brand|https://twitter.com/brand/status/1|"
     "https://x.com/brand|https://twitter.com/other",
     NULL, "https://x.com/brand", NULL, NULL, NULL},
    {"issue 22: founder before the company",
     "https://www.linkedin.com/in/jane-founder/|https://www.linkedin.com/company/brand/", NULL,
     NULL, "https://www.linkedin.com/company/brand/", NULL, NULL},
    {"company before the founder",
     "https://www.linkedin.com/company/brand|https://www.linkedin.com/in/jane-founder", NULL, NULL,
     "https://www.linkedin.com/company/brand", NULL, NULL},
    {"only the founder",
     "https://www.linkedin.com/posts/brand_launch-activity-71|"
     "https://www.linkedin.com/sharing/share-offsite/?url=x|https://www.linkedin.com/in/jane",
     NULL, NULL, "https://www.linkedin.com/in/jane", NULL, NULL},
    {"facebook: share, post, page",
     "https://www.facebook.com/sharer/sharer.php?u=x|https://www.facebook.com/brand/posts/12|"
     "https://www.facebook.com/brand.page|https://www.facebook.com/other",
     "https://www.facebook.com/brand.page", NULL, NULL, NULL, NULL},
    {"facebook: only a post", "https://www.facebook.com/brand/videos/34/",
     "https://www.facebook.com/brand", NULL, NULL, NULL, NULL},
    {"instagram and youtube: posts and videos skipped",
     "https://www.instagram.com/p/Cabc/|https://www.instagram.com/brand/|"
     "https://www.youtube.com/watch?v=abc|https://www.youtube.com/embed/abc|"
     "https://www.youtube.com/@Brand|https://www.youtube.com/@Other",
     NULL, NULL, NULL, "https://www.instagram.com/brand/", "https://www.youtube.com/@Brand"},
    {"all five, each after a worse link",
     "https://twitter.com/share?url=x|https://www.facebook.com/b/posts/1|"
     "https://www.facebook.com/b|https://x.com/b/status/9|https://x.com/b|"
     "https://www.linkedin.com/in/f|https://www.linkedin.com/school/b|"
     "https://www.instagram.com/reel/x/|https://instagram.com/b|"
     "https://www.youtube.com/shorts/x|https://www.youtube.com/channel/UCb",
     "https://www.facebook.com/b", "https://x.com/b", "https://www.linkedin.com/school/b",
     "https://instagram.com/b", "https://www.youtube.com/channel/UCb"},
};

static void expect(const char *name, const char *what, const char *want, const char *got)
{
    if ((want || got) && (!want || !got || strcmp(want, got) != 0))
        fail_msg("%s: %s want '%s', got '%s'", name, what, want ? want : "(null)",
                 got ? got : "(null)");
}

static void check(const social_case *t)
{
    char html[4096], links[4096], err[128];
    size_t o = 0;
    meta_page m;
    snprintf(links, sizeof links, "%s", t->links);
    for (char *save = NULL, *h = strtok_r(links, "|", &save); h; h = strtok_r(NULL, "|", &save))
        o += (size_t)snprintf(html + o, sizeof html - o, "<a href=\"%s\">link</a>\n", h);
    assert_true(o < sizeof html);
    assert_int_equal(
        extract_page(html, o, "text/html", "https://brand.example/", &m, err, sizeof err),
        EXTRACT_OK);
    expect(t->name, "facebook", t->facebook, m.facebook_url);
    expect(t->name, "twitter", t->twitter, m.twitter_url);
    expect(t->name, "linkedin", t->linkedin, m.linkedin_url);
    expect(t->name, "instagram", t->instagram, m.instagram_url);
    expect(t->name, "youtube", t->youtube, m.youtube_url);
    meta_page_free(&m);
}

static void test_social_choice(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check(&cases[i]);
    print_message("social: %zu pages\n", sizeof cases / sizeof cases[0]);
}

/* The large pages link a post, a share button and a founder before the profiles. */
static void test_large_pages(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        social_case want;
    } pages[] = {
        {"40_large_wordpress_de.html",
         {"40", NULL, "https://www.facebook.com/WerkzeugKraemer", "https://x.com/kraemer_werkzeug",
          "https://www.linkedin.com/company/werkzeug-kraemer/", NULL, NULL}},
        {"41_large_shop_us.html",
         {"41", NULL, NULL, "https://twitter.com/blueridgecandle",
          "https://www.linkedin.com/company/blue-ridge-candle",
          "https://www.instagram.com/blueridgecandle/",
          "https://www.youtube.com/@BlueRidgeCandle"}},
        {"42_large_news_jp.html",
         {"42", NULL, NULL, "https://x.com/test_seiki", NULL, NULL,
          "https://www.youtube.com/channel/UCtestseiki"}},
    };
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        char path[512], err[128];
        snprintf(path, sizeof path, "%s/%s", WF4_PAGES_DIR, pages[i].file);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        char *body = malloc(1u << 20);
        assert_non_null(body);
        size_t len = fread(body, 1, 1u << 20, f);
        fclose(f);
        meta_page m;
        assert_int_equal(
            extract_page(body, len, NULL, "https://www.example.com/", &m, err, sizeof err),
            EXTRACT_OK);
        const social_case *t = &pages[i].want;
        expect(pages[i].file, "facebook", t->facebook, m.facebook_url);
        expect(pages[i].file, "twitter", t->twitter, m.twitter_url);
        expect(pages[i].file, "linkedin", t->linkedin, m.linkedin_url);
        expect(pages[i].file, "instagram", t->instagram, m.instagram_url);
        expect(pages[i].file, "youtube", t->youtube, m.youtube_url);
        meta_page_free(&m);
        free(body);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_social_choice),
        cmocka_unit_test(test_large_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
