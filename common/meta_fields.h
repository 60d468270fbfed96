/* The page metadata fields, described once: struct, free, Avro, committer columns. */
#ifndef WF4_META_FIELDS_H
#define WF4_META_FIELDS_H

/* The kinds of a field: its C type, its Avro type in PageMetadata, its column in domains.
 *   META_TEXT       char * (NULL = absent)  ["null", "string"], default null    text
 *   META_BOOL       bool                    "boolean", default false            boolean
 *   META_LIST       strlist                 {"array", "string"}, default []     text[]
 *   META_JSON_LIST  strlist                 {"array", "string"}, default []     jsonb array */
typedef enum { META_TEXT, META_BOOL, META_LIST, META_JSON_LIST } meta_kind;

#define META_CTYPE_META_TEXT char *
#define META_CTYPE_META_BOOL bool
#define META_CTYPE_META_LIST strlist
#define META_CTYPE_META_JSON_LIST strlist

/* X(member, kind, Avro field of PageMetadata, column of domains), in the schema's order.
 * A new field: one line here, its field in schemas/avro/result.avsc (with a default, so
 * that old messages still decode) and its column in a new schemas/sql migration;
 * tests/unit/test_meta_fields.c fails while the line and the schema disagree. */
#define META_FIELDS(X)                                                        \
    X(title, META_TEXT, "title", "title")                                     \
    X(description, META_TEXT, "description", "description")                   \
    X(favicon_url, META_TEXT, "favicon_url", "favicon_url")                   \
    X(logo_url, META_TEXT, "logo_url", "logo_url")                            \
    X(language, META_TEXT, "language", "language")                            \
    X(is_wordpress, META_BOOL, "is_wordpress", "is_wordpress")                \
    X(wordpress_version, META_TEXT, "wordpress_version", "wordpress_version") \
    X(has_elementor, META_BOOL, "has_elementor", "has_elementor")             \
    X(tech_stack, META_JSON_LIST, "tech_stack", "tech_stack")                 \
    X(email_addresses, META_LIST, "email_addresses", "email_addresses")       \
    X(phone_numbers, META_LIST, "phone_numbers", "phone_numbers")             \
    X(facebook_url, META_TEXT, "facebook_url", "facebook_url")                \
    X(twitter_url, META_TEXT, "twitter_url", "twitter_url")                   \
    X(linkedin_url, META_TEXT, "linkedin_url", "linkedin_url")                \
    X(instagram_url, META_TEXT, "instagram_url", "instagram_url")             \
    X(youtube_url, META_TEXT, "youtube_url", "youtube_url")

#define META_COUNT_ONE(member, kind, avro, column) +1
enum { META_NFIELDS = 0 META_FIELDS(META_COUNT_ONE) };

/* One row of META_FIELDS as data, for code that walks the fields (SQL text, tests). */
typedef struct meta_field {
    const char *member, *avro, *column;
    meta_kind kind;
} meta_field;

extern const meta_field meta_fields[META_NFIELDS];

#endif
