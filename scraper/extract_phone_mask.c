/* Digit runs that are plainly not phone numbers, masked before libphonenumber looks. */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "extract_internal.h"

/* Why: the matcher takes many look-alikes for valid numbers (an EAN or a VAT id can be
 * a valid number somewhere, a German date "08.02.2026" a valid German one), and each
 * candidate costs it a parse and a validation (about 250,000 instructions). A person
 * reads the label: "EAN", "USt-IdNr.", "SKU" say what follows is no phone number. */

#define MASK_WINDOW 32u     /* bytes before a run searched for its label */
#define MASK_MIN_DIGITS 7u  /* fewer: an article or house number, a price, a year */
#define MASK_MAX_DIGITS 17u /* more in one block: past E.164's 15 with a prefix */
#define MASK_CHAR '_'       /* neither a digit, a letter nor a number separator */

/* Labels of identifiers that are not phone numbers; a trailing '*' matches a prefix
 * of a word, otherwise the whole word. Compared case-insensitively at a word start. */
static const char *const mask_not_phone[] = {
    "sku",
    "ean",
    "gtin",
    "upc",
    "isbn",
    "iban",
    "bic",
    "swift",
    "nr",
    "no",
    "vat",
    "ust*",
    "tva",
    "iva",
    "btw",
    "mwst",
    "hrb",
    "hra",
    "ein",
    "tin",
    "abn",
    "acn",
    "gst",
    "kvk",
    "siret",
    "siren",
    "zip",
    "plz",
    "ref",
    "id",
    "art",
    "lot",
    "model*",
    "steuer*",
    "tax*",
    "licen*",
    "lizenz*",
    "order",
    "invoice*",
    "rechnung*",
    "kunden*",
    "customer*",
    "artikel*",
    "serial*",
    "postcode*",
    "registr*",
    "amtsgericht*",
    "item*",
    "\xE3\x80\x92" /* 〒 */,
    "\xE5\x9E\x8B\xE7\x95\xAA" /* 型番 */,
    "\xE6\xB3\x95\xE4\xBA\xBA\xE7\x95\xAA\xE5\x8F\xB7" /* 法人番号 */,
};

/* Labels of phone numbers: they win over the list above ("Tel.-Nr."). Prefixes. */
static const char *const mask_phone[] = {
    "tel*",
    "phone*",
    "fon*",
    "fax*",
    "mobil*",
    "cell*",
    "call*",
    "hotline*",
    "whatsapp*",
    "ruf*",
    "kontakt*",
    "contact*",
    "t\xC3\xA9l*" /* tél */,
    "llam*",
    "\xE9\x9B\xBB\xE8\xA9\xB1" /* 電話 */,
    "\xE6\x90\xBA\xE5\xB8\xAF" /* 携帯 */,
    "\xEC\xA0\x84\xED\x99\x94" /* 전화 */,
};

static bool is_letter(unsigned char c)
{
    return isalpha(c) || c >= 0x80;
}

/* True when keyword kw occurs in s[0..n) at a word start (and, unless kw ends in
 * '*', ending at a word end). Non-ASCII keywords match anywhere. */
static bool has_word(const char *s, size_t n, const char *kw)
{
    size_t kl = strlen(kw);
    bool prefix = kw[kl - 1] == '*', ascii = (unsigned char)kw[0] < 0x80;
    kl -= prefix;
    for (size_t i = 0; i + kl <= n; i++) {
        if (strncasecmp(s + i, kw, kl) != 0)
            continue;
        if (!ascii)
            return true;
        bool starts = i == 0 || !is_letter((unsigned char)s[i - 1]);
        bool ends = i + kl == n || !isalpha((unsigned char)s[i + kl]);
        if (starts && (prefix || ends))
            return true;
    }
    return false;
}

static bool any_word(const char *s, size_t n, const char *const *kws, size_t nkw)
{
    for (size_t i = 0; i < nkw; i++)
        if (has_word(s, n, kws[i]))
            return true;
    return false;
}

/* A date: d.m.yyyy, m/d/yy, yyyy-mm-dd (three groups, one separator kind). */
static bool run_is_date(const char *s, size_t n)
{
    size_t g[3] = {0}, k = 0;
    char sep = 0;
    for (size_t i = 0; i < n; i++) {
        if (isdigit((unsigned char)s[i])) {
            g[k]++;
            continue;
        }
        if (!strchr("./-", s[i]) || (sep && s[i] != sep) || ++k > 2)
            return false;
        sep = s[i];
    }
    return k == 2 && ((g[0] <= 2 && g[1] <= 2 && (g[2] == 2 || g[2] == 4)) ||
                      (g[0] == 4 && g[1] <= 2 && g[2] <= 2));
}

/* A currency sign or code right before or after the run (one space between allowed). */
static bool run_is_price(const char *s, size_t start, size_t end, size_t n)
{
    static const char *const after[] = {"\xE2\x82\xAC", "\xE5\x86\x86", "EUR", "USD", "CHF"};
    size_t b = start > 0 && s[start - 1] == ' ' ? start - 1 : start;
    if (b > 0 && s[b - 1] == '$')
        return true;
    bool pound_yen = b >= 2 && (memcmp(s + b - 2, "\xC2\xA3", 2) == 0 ||
                                memcmp(s + b - 2, "\xC2\xA5", 2) == 0);
    if (pound_yen || (b >= 3 && memcmp(s + b - 3, "\xE2\x82\xAC", 3) == 0))
        return true;
    size_t a = end < n && s[end] == ' ' ? end + 1 : end;
    for (size_t i = 0; i < sizeof after / sizeof after[0]; i++)
        if (a + strlen(after[i]) <= n && memcmp(s + a, after[i], strlen(after[i])) == 0)
            return true;
    return false;
}

/* End of the phone-like run at s[i]: digits and separators, ending on a digit. */
static size_t run_end(const char *s, size_t i, size_t n, size_t *digits)
{
    size_t end = i, seps = 0;
    *digits = 0;
    if (s[i] == '+' || s[i] == '(')
        i++;
    for (; i < n; i++) {
        if (isdigit((unsigned char)s[i])) {
            (*digits)++;
            end = i + 1;
            seps = 0;
        } else if (!strchr(" -./()", s[i]) || ++seps > 3) {
            break;
        }
    }
    return end;
}

static bool run_masked(const char *s, size_t from, size_t start, size_t end, size_t n,
                       size_t digits)
{
    size_t w = start - from > MASK_WINDOW ? MASK_WINDOW : start - from;
    const char *win = s + start - w;
    if (digits < MASK_MIN_DIGITS || (digits > MASK_MAX_DIGITS && digits == end - start))
        return true; /* a longer run with separators may be two numbers: "a / b" */
    if (run_is_date(s + start, end - start) || run_is_price(s, start, end, n))
        return true;
    return any_word(win, w, mask_not_phone, sizeof mask_not_phone / sizeof mask_not_phone[0]) &&
           !any_word(win, w, mask_phone, sizeof mask_phone / sizeof mask_phone[0]);
}

size_t ext_phone_mask(char *s, size_t n)
{
    size_t live = 0, prev_end = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        bool start = (isdigit(c) ||
                      ((c == '+' || c == '(') && i + 1 < n && isdigit((unsigned char)s[i + 1]))) &&
                     (i == 0 || !isalnum((unsigned char)s[i - 1]));
        size_t digits = 0, end = start ? run_end(s, i, n, &digits) : i;
        if (end == i) {
            i++;
            continue;
        }
        if (run_masked(s, prev_end, i, end, n, digits))
            memset(s + i, MASK_CHAR, end - i);
        else
            live++;
        prev_end = end;
        i = end;
    }
    return live;
}
