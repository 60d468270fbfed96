// Phone numbers through Google's libphonenumber: the C interface of phone.h.
#include "phone.h"

#include <cstring>
#include <string>

#include <phonenumbers/logger.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumbermatch.h>
#include <phonenumbers/phonenumbermatcher.h>
#include <phonenumbers/phonenumberutil.h>

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberMatch;
using i18n::phonenumbers::PhoneNumberMatcher;
using i18n::phonenumbers::PhoneNumberUtil;

namespace {

// Why: the library's default logger prints to stdout, and the services' stdout carries
// one JSON object a line; nothing the library would say is worth a log line here.
const PhoneNumberUtil &phone_util()
{
    static PhoneNumberUtil *util = [] {
        PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();
        u->SetLogger(new i18n::phonenumbers::NullLogger());
        return u;
    }();
    return *util;
}

std::string phone_region_or_zz(const char *region)
{
    if (!region || std::strlen(region) != 2)
        return "ZZ";
    return region;
}

bool phone_e164(const PhoneNumber &n, char out[PHONE_E164_MAX])
{
    std::string s;
    phone_util().Format(n, PhoneNumberUtil::E164, &s);
    if (s.size() + 1 > PHONE_E164_MAX)
        return false;
    std::memcpy(out, s.c_str(), s.size() + 1);
    return true;
}

PhoneNumberMatcher::Leniency phone_leniency_of(phone_leniency l)
{
    switch (l) {
    case PHONE_STRICT: return PhoneNumberMatcher::STRICT_GROUPING;
    case PHONE_EXACT: return PhoneNumberMatcher::EXACT_GROUPING;
    default: return PhoneNumberMatcher::VALID;
    }
}

} // namespace

extern "C" int phone_find(const char *text, size_t len, const char *region, phone_leniency leniency,
                          size_t max_tries, phone_found_fn fn, void *arg)
{
    try {
        const PhoneNumberUtil &util = phone_util();
        PhoneNumberMatcher m(util, std::string(text, len), phone_region_or_zz(region),
                             phone_leniency_of(leniency),
                             max_tries > 0x7fffffff ? 0x7fffffff : (int)max_tries);
        PhoneNumberMatch match;
        char e164[PHONE_E164_MAX];
        while (m.HasNext() && m.Next(&match))
            if (phone_e164(match.number(), e164) &&
                fn((size_t)match.start(), (size_t)match.length(), e164, arg) != 0)
                break;
        return 0;
    } catch (...) { // nothing may cross into C: std::bad_alloc is the one expected
        return -1;
    }
}

extern "C" bool phone_parse(const char *raw, const char *region, char e164[PHONE_E164_MAX])
{
    try {
        const PhoneNumberUtil &util = phone_util();
        PhoneNumber n;
        if (util.Parse(raw, phone_region_or_zz(region), &n) != PhoneNumberUtil::NO_PARSING_ERROR)
            return false;
        return util.IsValidNumber(n) && phone_e164(n, e164);
    } catch (...) {
        return false;
    }
}

extern "C" bool phone_region_of(const char *raw, char region[3])
{
    try {
        const PhoneNumberUtil &util = phone_util();
        PhoneNumber n;
        std::string r;
        if (util.Parse(raw, "ZZ", &n) != PhoneNumberUtil::NO_PARSING_ERROR ||
            !util.IsValidNumber(n))
            return false;
        util.GetRegionCodeForNumber(n, &r);
        if (r.size() != 2 || r == "ZZ" || r == "00")
            return false;
        std::memcpy(region, r.c_str(), 3);
        return true;
    } catch (...) {
        return false;
    }
}

extern "C" bool phone_region_known(const char *region)
{
    try {
        return region && std::strlen(region) == 2 &&
               phone_util().GetCountryCodeForRegion(region) != 0;
    } catch (...) {
        return false;
    }
}
