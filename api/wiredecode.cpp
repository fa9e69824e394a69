#include "wiredecode.h"
#include "wirenames.h"

#include <QRegularExpression>

#include "isotime.h"

#include <simdjson.h>

#include <array>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>

namespace fleet {

namespace sj = simdjson;

namespace {

using namespace std::string_view_literals;

const char *typeName(sj::dom::element_type t)
{
    switch (t) {
    case sj::dom::element_type::ARRAY:
        return "an array";
    case sj::dom::element_type::OBJECT:
        return "an object";
    case sj::dom::element_type::INT64:
    case sj::dom::element_type::UINT64:
    case sj::dom::element_type::DOUBLE:
        return "a number";
    case sj::dom::element_type::STRING:
        return "a string";
    case sj::dom::element_type::BOOL:
        return "a boolean";
    case sj::dom::element_type::NULL_VALUE:
        return "null";
    }
    return "something else";
}

struct StringHash
{
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view> {}(s); }
};

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm, public domain).
qint64 daysFromCivil(qint64 y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const qint64 era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<qint64>(doe) - 719468;
}

// The last date seen ("YYYY-MM-DDT") and its first millisecond: timestamps in one document mostly share a day.
struct DateCache
{
    std::array<char, 11> text {};
    qint64 dayMs = 0;
    bool valid = false;
};

// Field names and the other strings compared on the hot path are short: compare them eight bytes at a time with
// loads that stay inside both strings (the last word overlaps the one before), not through a memcmp call.
Q_ALWAYS_INLINE std::uint64_t load8(const char *p)
{
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
}
Q_ALWAYS_INLINE std::uint32_t load4(const char *p)
{
    std::uint32_t w;
    std::memcpy(&w, p, 4);
    return w;
}
Q_ALWAYS_INLINE bool sameKey(std::string_view a, std::string_view b)
{
    const std::size_t n = a.size();
    if (n != b.size())
        return false;
    const char *x = a.data();
    const char *y = b.data();
    if (n >= 8) {
        std::uint64_t diff = 0;
        std::size_t i = 0;
        for (; i + 8 < n; i += 8)
            diff |= load8(x + i) ^ load8(y + i);
        return (diff | (load8(x + n - 8) ^ load8(y + n - 8))) == 0;
    }
    if (n >= 4)
        return ((load4(x) ^ load4(y)) | (load4(x + n - 4) ^ load4(y + n - 4))) == 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (x[i] != y[i])
            return false;
    }
    return true;
}

// Fast path for "YYYY-MM-DDTHH:MM:SS[.fff]Z"; anything else goes through QDateTime.
std::optional<qint64> parseTime(std::string_view s, DateCache &cache)
{
    if (s.size() >= 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':') {
        const char *c = s.data();
        const auto digit = [c](std::size_t i) { return unsigned(std::uint8_t(c[i])) - unsigned('0'); };
        const bool sameDay
            = cache.valid && load8(cache.text.data()) == load8(c) && load4(cache.text.data() + 7) == load4(c + 7);
        if (!sameDay) {
            const unsigned y1 = digit(0), y2 = digit(1), y3 = digit(2), y4 = digit(3);
            const unsigned m1 = digit(5), m2 = digit(6), d1 = digit(8), d2 = digit(9);
            if ((y1 > 9) | (y2 > 9) | (y3 > 9) | (y4 > 9) | (m1 > 9) | (m2 > 9) | (d1 > 9) | (d2 > 9))
                return parseIsoUtc(QString::fromUtf8(c, qsizetype(s.size())));
            const unsigned mo = m1 * 10 + m2, day = d1 * 10 + d2;
            if (mo < 1 || mo > 12 || day < 1 || day > 31)
                return parseIsoUtc(QString::fromUtf8(c, qsizetype(s.size())));
            std::memcpy(cache.text.data(), c, cache.text.size());
            cache.dayMs = daysFromCivil(qint64(y1 * 1000 + y2 * 100 + y3 * 10 + y4), mo, day) * 86400000;
            cache.valid = true;
        }
        const unsigned h1 = digit(11), h2 = digit(12), i1 = digit(14), i2 = digit(15), s1 = digit(17), s2 = digit(18);
        const unsigned h = h1 * 10 + h2, mi = i1 * 10 + i2, se = s1 * 10 + s2;
        const bool digits = !((h1 > 9) | (h2 > 9) | (i1 > 9) | (i2 > 9) | (s1 > 9) | (s2 > 9)); // '/' wraps to large
        if (digits && h < 24 && mi < 60 && se < 61) {
            std::size_t at = 19;
            int ms = 0;
            if (s[at] == '.') {
                std::size_t n = 0;
                int frac = 0;
                while (at + 1 + n < s.size() && s[at + 1 + n] >= '0' && s[at + 1 + n] <= '9') {
                    if (n < 3)
                        frac = frac * 10 + (s[at + 1 + n] - '0');
                    ++n;
                }
                if (n == 0)
                    return std::nullopt;
                for (std::size_t k = n; k < 3; ++k)
                    frac *= 10;
                ms = frac;
                at += 1 + n;
            }
            if (at + 1 == s.size() && (s[at] == 'Z' || s[at] == 'z'))
                return cache.dayMs + qint64(h * 3600 + mi * 60 + se) * 1000 + ms;
        }
    }
    return parseIsoUtc(QString::fromUtf8(s.data(), qsizetype(s.size())));
}

// Wire spellings as UTF-8 (wirenames.h), compared without converting to UTF-16.
template <typename Enum> constexpr const auto &kNames = kWireNames<Enum>;

template <typename Enum> Q_ALWAYS_INLINE std::optional<Enum> enumFromUtf8(std::string_view text)
{
    const auto &names = kNames<Enum>;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (sameKey(names[i], text))
            return static_cast<Enum>(i);
    }
    return std::nullopt;
}

std::optional<FailureReason> failureFromUtf8(std::string_view text)
{
    return enumFromUtf8<FailureReason>(text);
}

QString qstr(std::string_view s)
{
    // Nearly everything on the wire is ASCII: widen it directly. Anything else goes through Qt's UTF-8 decoder.
    const std::size_t n = s.size();
    const char *p = s.data();
    std::uint64_t high = 0;
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8)
        high |= load8(p + i);
    for (; i < n; ++i)
        high |= std::uint8_t(p[i]);
    if (n == 0 || (high & 0x8080808080808080ull) != 0)
        return QString::fromUtf8(p, qsizetype(n));
    QString out(qsizetype(n), Qt::Uninitialized);
    auto *dst = reinterpret_cast<char16_t *>(out.data());
    i = 0;
#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128();
    for (; i + 16 <= n; i += 16) {
        const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p + i));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + i), _mm_unpacklo_epi8(bytes, zero));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + i + 8), _mm_unpackhi_epi8(bytes, zero));
    }
    for (; i + 8 <= n; i += 8) {
        const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i *>(p + i));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + i), _mm_unpacklo_epi8(bytes, zero));
    }
#endif
    for (; i < n; ++i)
        dst[i] = char16_t(std::uint8_t(p[i]));
    return out;
}

} // namespace

struct WireDecoder::Private
{
    sj::dom::parser parser;
    std::unordered_map<std::string, QString, StringHash, std::equal_to<>> interned;

    // Where in the document we are, for error messages; formatted only when something fails.
    struct Step
    {
        std::string_view key;
        qsizetype index = -1;
    };
    // Where an error happened is collected only when one happens: each level adds its key or index to `trail`
    // as the failure unwinds, so the hot path keeps no path at all.
    std::vector<Step> trail;
    QString problem;
    bool failedFlag = false;
    QString endpoint;
    QString error;

    bool failed() const { return failedFlag; }

    void fail(const QString &what)
    {
        if (failedFlag)
            return;
        failedFlag = true;
        problem = what;
        trail.clear();
    }

    void unwind(Step step)
    {
        if (failedFlag)
            trail.push_back(step);
    }

    QString composeError() const
    {
        QString where;
        for (auto it = trail.rbegin(); it != trail.rend(); ++it) {
            if (it->index >= 0)
                where += u'[' + QString::number(it->index) + u']';
            else
                where += (where.isEmpty() ? QString() : QStringLiteral(".")) + qstr(it->key);
        }
        return endpoint + QStringLiteral(": ") + (where.isEmpty() ? QString() : where + QStringLiteral(": ")) + problem;
    }

    void expected(const char *what, const sj::dom::element &v)
    {
        fail(QStringLiteral("expected %1, got %2").arg(QLatin1String(what), QLatin1String(typeName(v.type()))));
    }

    // Valid JSON with a number no 64-bit field can hold: name the field, found in the text (on the error path only).
    static QString outOfRange(const QByteArray &json)
    {
        static const QRegularExpression bigNumber(
            QStringLiteral("\"([^\"\\\\]{1,64})\"\\s*:\\s*(-?(?:\\d{19,}|\\d[\\d.]*[eE][+]?\\d{3,}))"));
        const QRegularExpressionMatch m = bigNumber.match(QString::fromUtf8(json));
        if (m.hasMatch())
            return QStringLiteral("\"%1\" is %2: valid JSON, but a number beyond 64 bits (out of range)")
                .arg(m.captured(1), m.captured(2).left(40));
        return QStringLiteral("a number in the body is valid JSON but beyond 64 bits (out of range)");
    }

    bool parse(const QByteArray &json, sj::dom::element *root)
    {
        trail.clear();
        problem.clear();
        failedFlag = false;
        error.clear();
        // Without a copy when the buffer already has simdjson's padding (FleetClient reserves it).
        const bool padded = json.capacity() - json.size() >= qsizetype(sj::SIMDJSON_PADDING);
        const auto err = parser.parse(json.constData(), std::size_t(json.size()), !padded).get(*root);
        if (err) {
            if (json.trimmed().isEmpty())
                fail(QStringLiteral("the body is empty, expected JSON"));
            else if (err == sj::NUMBER_OUT_OF_RANGE || err == sj::NUMBER_ERROR)
                fail(outOfRange(json));
            else
                fail(QStringLiteral("the body is not valid JSON (%1)%2")
                         .arg(QLatin1String(sj::error_message(err)),
                             json.trimmed().startsWith('<') ? QStringLiteral("; it looks like an HTML page, "
                                                                             "perhaps from a proxy")
                                                            : QString()));
            return false;
        }
        return true;
    }

    // Per field, the value interned last: region ids, versions and actors repeat in runs, so one compare usually
    // answers before the hash table is asked.
    enum InternSlot {
        NoIntern = -1,
        WorkerRegion,
        WorkerVersion,
        WorkerOfflineReason,
        WorkerOperation,
        RegionId,
        OperationRegion,
        OperationRequestedBy,
        AuditActor,
        AuditAction,
        AuditResult,
        HealthRegion,
        InternSlots
    };
    // A few recent values per field (a fleet runs two or three versions at once, region ids come in runs).
    struct RecentInterned
    {
        std::array<std::string_view, 4> text; // views of `interned`'s keys, which never move
        std::array<QString, 4> value;
        std::size_t next = 0;
    };
    std::array<RecentInterned, InternSlots> lastInterned;

    QString intern(std::string_view s, int slot)
    {
        auto &recent = lastInterned[std::size_t(slot)];
        for (std::size_t k = 0; k < recent.text.size(); ++k) {
            if (!recent.value[k].isNull() && sameKey(recent.text[k], s))
                return recent.value[k];
        }
        auto it = interned.find(s);
        if (it == interned.end()) {
            if (interned.size() > 4096)
                return qstr(s); // bounded: interning is for the few values that repeat
            it = interned.emplace(std::string(s), qstr(s)).first;
        }
        recent.text[recent.next] = it->first;
        recent.value[recent.next] = it->second;
        recent.next = (recent.next + 1) % recent.text.size();
        return it->second;
    }

    // ---- scalars ----
    QString string(const sj::dom::element &v, int internSlot = NoIntern)
    {
        std::string_view s;
        if (v.get_string().get(s)) {
            expected("a string", v);
            return {};
        }
        return internSlot >= 0 ? intern(s, internSlot) : qstr(s);
    }
    QString nullableString(const sj::dom::element &v, int internSlot = NoIntern)
    {
        return v.is_null() ? QString() : string(v, internSlot);
    }
    qint64 integer(const sj::dom::element &v)
    {
        int64_t n = 0;
        if (v.type() == sj::dom::element_type::DOUBLE || v.get_int64().get(n)) {
            expected("a whole number", v);
            return 0;
        }
        return n;
    }
    // An event sequence number: whole and not negative.
    qint64 sequence(const sj::dom::element &v)
    {
        const qint64 n = integer(v);
        if (!failed() && n < 0)
            fail(QStringLiteral("expected an event sequence number of 0 or more, got %1").arg(n));
        return n;
    }
    // A count or size: a whole number from 0 to INT_MAX. A negative count or one past `int` is refused with the
    // value, not wrapped or accepted (the worker fast path leaves such values to this check).
    int count(const sj::dom::element &v)
    {
        const qint64 n = integer(v);
        if (failed())
            return 0;
        if (n < 0 || n > std::numeric_limits<int>::max()) {
            fail(QStringLiteral("expected a count from 0 to %1, got %2").arg(std::numeric_limits<int>::max()).arg(n));
            return 0;
        }
        return int(n);
    }
    // A count in a region's description (its capacity, its workers by state): a value outside 0..INT_MAX is noted
    // in `unknown` under `field` and taken as 0, instead of refusing the whole snapshot. One bad figure must not
    // blind the on-call to the whole fleet (issue #20); 0 capacity means nothing is provisioned there on its word.
    // Anything that is not a whole number still fails: that is not a figure but a broken answer.
    int lenientCount(const sj::dom::element &v, std::string_view field, QMap<QString, QString> &unknown)
    {
        const qint64 n = integer(v);
        if (failed())
            return 0;
        if (n < 0 || n > std::numeric_limits<int>::max()) {
            unknown.insert(qstr(field),
                QStringLiteral("%1 is not a count (0 to %2): shown as unknown, taken as 0")
                    .arg(n)
                    .arg(std::numeric_limits<int>::max()));
            return 0;
        }
        return int(n);
    }
    double number(const sj::dom::element &v)
    {
        double n = 0;
        if (v.get_double().get(n)) {
            expected("a number", v);
            return 0;
        }
        return n;
    }
    bool boolean(const sj::dom::element &v)
    {
        bool b = false;
        if (v.get_bool().get(b))
            expected("true or false", v);
        return b;
    }
    // Per call site (`dateSlot`), the last date parsed: heartbeats share a day, start times another.
    std::array<DateCache, 2> dates;

    qint64 time(const sj::dom::element &v, bool nullable, int dateSlot = 0)
    {
        if (nullable && v.is_null())
            return 0;
        std::string_view s;
        if (v.get_string().get(s)) {
            expected("an RFC 3339 time string", v);
            return 0;
        }
        const auto t = parseTime(s, dates[std::size_t(dateSlot)]);
        if (!t) {
            fail(QStringLiteral("\"%1\" is not an RFC 3339 time with an offset, such as 2025-11-12T09:13:00Z")
                     .arg(qstr(s)));
            return 0;
        }
        return *t;
    }

    template <typename Enum>
    Enum enumValue(const sj::dom::element &v, std::string_view field, QMap<QString, QString> &unknown)
    {
        std::string_view s;
        if (v.get_string().get(s)) {
            expected("a string", v);
            return Enum::Unknown;
        }
        if (auto e = enumFromUtf8<Enum>(s))
            return *e;
        unknown.insert(qstr(field), qstr(s));
        return Enum::Unknown;
    }

    // Iterates the fields of an object, dispatching known ones by index, keeping unknown ones, and checking that
    // every required field (bit set in `required`) was there.
    template <std::size_t N, typename Fn>
    bool object(const sj::dom::element &v, const std::array<std::string_view, N> &fields, quint64 required,
        QMap<QString, QString> *unknown, Fn &&fn)
    {
        sj::dom::object o;
        if (v.get_object().get(o)) {
            expected("an object", v);
            return false;
        }
        quint64 seen = 0;
        std::size_t next = 0; // servers write fields in the documented order: try the expected one first
        for (const sj::dom::key_value_pair field : o) {
            std::size_t i = next;
            if (i >= N || !sameKey(fields[i], field.key)) {
                i = 0;
                while (i < N && !sameKey(fields[i], field.key))
                    ++i;
            }
            next = i + 1;
            if (i == N) {
                if (unknown)
                    unknown->insert(qstr(field.key), QString::fromStdString(sj::to_string(field.value)));
                continue;
            }
            seen |= quint64(1) << i;
            fn(i, field.value);
            if (failed()) {
                unwind({ fields[i], -1 });
                return false;
            }
        }
        const quint64 missing = required & ~seen;
        if (missing) {
            for (std::size_t i = 0; i < N; ++i) {
                if (missing & (quint64(1) << i)) {
                    fail(QStringLiteral("missing field \"%1\"").arg(qstr(fields[i])));
                    break;
                }
            }
            return false;
        }
        return true;
    }

    // `out` may hold the array's first items already (decoded by the worker fast path): the rest follow them.
    template <typename T, typename Fn>
    std::vector<T> array(const sj::dom::element &v, Fn &&decodeOne, std::vector<T> out = {})
    {
        sj::dom::array a;
        if (v.get_array().get(a)) {
            expected("an array", v);
            return {};
        }
        const std::size_t done = out.size();
        if (done == a.size())
            return out;
        out.reserve(a.size());
        qsizetype index = 0;
        for (const sj::dom::element item : a) {
            if (std::size_t(index) >= done) {
                decodeOne(item, out.emplace_back());
                if (failed()) {
                    unwind({ {}, index });
                    return {};
                }
            }
            ++index;
        }
        return out;
    }

    static constexpr quint64 all(std::size_t n) { return n >= 64 ? ~quint64(0) : (quint64(1) << n) - 1; }

    // ---- types ----
    void counts(const sj::dom::element &v, WorkerCounts &c, QMap<QString, QString> *lenient = nullptr)
    {
        const auto &f = kWireNames<WorkerState>;
        object(v, f, all(f.size()), nullptr, [&](std::size_t i, const sj::dom::element &e) {
            c[i] = lenient ? lenientCount(e, f[i], *lenient) : count(e);
        });
    }

    void failures(const sj::dom::element &v, FailureCounts &c, QMap<QString, QString> *unknown, const char *prefix)
    {
        sj::dom::object o;
        if (v.get_object().get(o)) {
            expected("an object", v);
            return;
        }
        std::size_t next = 0;
        for (const sj::dom::key_value_pair field : o) {
            const int n = count(field.value);
            if (failed()) {
                unwind({ field.key, -1 });
                return;
            }
            // Reasons come in the documented order: try the expected one before searching.
            const auto &names = kNames<FailureReason>;
            std::optional<FailureReason> reason;
            if (next < names.size() && sameKey(names[next], field.key))
                reason = FailureReason(next);
            else
                reason = failureFromUtf8(field.key);
            next = reason ? std::size_t(*reason) + 1 : next;
            if (reason)
                c[int(*reason)] = n;
            else if (unknown) // a reason this client does not know: kept, shown as unknown
                unknown->insert(QLatin1String(prefix) + qstr(field.key), QString::number(n));
        }
    }

    void worker(const sj::dom::element &v, Worker &w)
    {
        static constexpr std::array<std::string_view, 14> f { "id"sv, "name"sv, "region"sv, "arch"sv, "state"sv,
            "version"sv, "started_at"sv, "last_heartbeat_at"sv, "current_build"sv, "rtt_ms"sv, "packet_loss"sv,
            "recent_failures"sv, "offline_reason"sv, "operation"sv };
        object(v, f, all(14), &w.unknown, [&](std::size_t i, const sj::dom::element &e) {
            switch (i) {
            case 0:
                w.id = string(e);
                break;
            case 1:
                w.name = string(e);
                break;
            case 2:
                w.region = string(e, WorkerRegion);
                break;
            case 3:
                w.arch = enumValue<Arch>(e, f[i], w.unknown);
                break;
            case 4:
                w.state = enumValue<WorkerState>(e, f[i], w.unknown);
                break;
            case 5:
                w.version = string(e, WorkerVersion);
                break;
            case 6:
                w.startedAt = time(e, false);
                break;
            case 7:
                w.lastHeartbeatAt = time(e, true, 1);
                break;
            case 8:
                w.currentBuild = nullableString(e);
                break;
            case 9:
                w.rttMs = number(e);
                break;
            case 10:
                w.packetLoss = number(e);
                break;
            case 11:
                failures(e, w.recentFailures, &w.unknown, "recent_failures.");
                break;
            case 12:
                w.offlineReason = nullableString(e, WorkerOfflineReason);
                break;
            case 13:
                w.operation = nullableString(e, WorkerOperation);
                break;
            }
        });
    }

    // ---- the fast path for worker lists ----
    // A fleet snapshot is 50,000 workers in the documented shape. Those are read straight from simdjson's tape
    // (the parsed document's public `tape` and `string_buf`, format in simdjson's doc/tape.md), in the documented
    // field order, without the DOM's iterators. The first worker that is not exactly that shape (a field missing,
    // extra, out of order or of another type, an unknown enum value or failure reason, a time in another form)
    // and every worker after it go through `worker()` above, which is the definition: the fast path only ever
    // takes input that `worker()` decodes to the same value, and the tests check that it does.
    bool fastPath = sj::SIMDJSON_VERSION_MAJOR == 3; // the tape format this code reads
    std::size_t fastWorkers = 0;

    static char tapeType(std::uint64_t word) { return char(word >> 56); }
    static std::size_t tapePayload(std::uint64_t word) { return std::size_t(word & 0xFFFFFFFFFFFFFFull); }

    // A string word's text: its payload is an offset into the string buffer, where a 32-bit length precedes it.
    static std::string_view tapeString(const std::uint8_t *strings, std::uint64_t word)
    {
        const std::uint8_t *at = strings + tapePayload(word);
        std::uint32_t length;
        std::memcpy(&length, at, sizeof length);
        return { reinterpret_cast<const char *>(at + sizeof length), length };
    }

    // The tape index of the value of `key` in the document's root object; 0 when the root is not an object or
    // has no such member or has it more than once (then the DOM path decides).
    std::size_t rootMember(std::string_view key) const
    {
        const std::uint64_t *t = parser.doc.tape.get();
        if (!t || tapeType(t[0]) != 'r' || tapeType(t[1]) != '{')
            return 0;
        const std::size_t end = std::size_t(std::uint32_t(t[1])) - 1;
        std::size_t found = 0;
        for (std::size_t i = 2; i < end;) {
            if (tapeType(t[i]) != '"')
                return 0;
            const bool match = sameKey(tapeString(parser.doc.string_buf.get(), t[i]), key);
            ++i;
            if (match) {
                if (found)
                    return 0;
                found = i;
            }
            switch (tapeType(t[i])) {
            case '{':
            case '[':
                i = std::size_t(std::uint32_t(t[i]));
                break;
            case 'l':
            case 'u':
            case 'd':
                i += 2;
                break;
            default:
                ++i;
            }
        }
        return found;
    }

    // Reads the members of one object off the tape, in the documented order. Every read checks what it reads;
    // `false` means "not the documented shape", never an error.
    struct TapeCursor
    {
        const std::uint64_t *t;
        const std::uint8_t *strings;
        std::size_t p; // the next tape word
        std::size_t end; // the object's closing '}'
        std::string_view s; // the last string read; data() == nullptr for null

        Q_ALWAYS_INLINE char type() const { return tapeType(t[p]); }
        Q_ALWAYS_INLINE std::string_view stringAt(std::size_t i) const { return tapeString(strings, t[i]); }
        template <std::size_t N> Q_ALWAYS_INLINE bool key(const char (&name)[N])
        {
            if (p >= end || type() != '"' || !sameKey(stringAt(p), std::string_view(name, N - 1)))
                return false;
            ++p;
            return true;
        }
        template <std::size_t N> Q_ALWAYS_INLINE bool text(const char (&name)[N])
        {
            if (!key(name) || type() != '"')
                return false;
            s = stringAt(p++);
            return true;
        }
        template <std::size_t N> Q_ALWAYS_INLINE bool nullableText(const char (&name)[N])
        {
            if (!key(name))
                return false;
            if (type() == 'n') {
                s = {};
                ++p;
                return true;
            }
            if (type() != '"')
                return false;
            s = stringAt(p++);
            return true;
        }
        // As the DOM's get_double(): any JSON number.
        template <std::size_t N> Q_ALWAYS_INLINE bool number(const char (&name)[N], double &out)
        {
            if (!key(name))
                return false;
            const char kind = type();
            if (kind == 'd') {
                std::memcpy(&out, &t[p + 1], sizeof out);
            } else if (kind == 'l') {
                std::int64_t n;
                std::memcpy(&n, &t[p + 1], sizeof n);
                out = double(n);
            } else if (kind == 'u') {
                out = double(t[p + 1]);
            } else {
                return false;
            }
            p += 2;
            return true;
        }
        // A signed integer (what the DOM's integer() accepts without a detour).
        template <std::size_t N> Q_ALWAYS_INLINE bool integer(const char (&name)[N], int &out)
        {
            if (!key(name) || type() != 'l')
                return false;
            std::int64_t n;
            std::memcpy(&n, &t[p + 1], sizeof n);
            if (n < 0 || n > std::numeric_limits<int>::max())
                return false; // the DOM path names the field and the value
            out = int(n);
            p += 2;
            return true;
        }
        Q_ALWAYS_INLINE bool time(DateCache &cache, bool nullable, qint64 &out)
        {
            if (nullable && type() == 'n') {
                out = 0;
                ++p;
                return true;
            }
            if (type() != '"')
                return false;
            const auto parsed = parseTime(stringAt(p++), cache);
            if (!parsed)
                return false;
            out = *parsed;
            return true;
        }
        // Enters the object that is the value of `name`; `outer` keeps where this object ends.
        template <std::size_t N> Q_ALWAYS_INLINE bool enter(const char (&name)[N], std::size_t &outer)
        {
            if (!key(name) || type() != '{')
                return false;
            outer = end;
            end = std::size_t(std::uint32_t(t[p])) - 1;
            ++p;
            return true;
        }
        Q_ALWAYS_INLINE bool leave(std::size_t outer)
        {
            if (p != end)
                return false;
            ++p;
            end = outer;
            return true;
        }
    };

    // Decodes the worker object at tape index `i` into `w`; the index after it, or 0 if it is not in the
    // documented shape (then `w` is partly written and the caller decodes it again through the DOM).
    std::size_t tapeWorker(std::size_t i, Worker &w)
    {
        const std::uint64_t *t = parser.doc.tape.get();
        if (tapeType(t[i]) != '{')
            return 0;
        TapeCursor c { t, parser.doc.string_buf.get(), i + 1, std::size_t(std::uint32_t(t[i])) - 1, {} };
        if (!c.text("id"))
            return 0;
        w.id = qstr(c.s);
        if (!c.text("name"))
            return 0;
        w.name = qstr(c.s);
        if (!c.text("region"))
            return 0;
        w.region = intern(c.s, WorkerRegion);
        if (!c.text("arch"))
            return 0;
        const auto arch = enumFromUtf8<Arch>(c.s);
        if (!arch || !c.text("state"))
            return 0;
        w.arch = *arch;
        const auto state = enumFromUtf8<WorkerState>(c.s);
        if (!state || !c.text("version"))
            return 0;
        w.state = *state;
        w.version = intern(c.s, WorkerVersion);
        if (!c.key("started_at") || !c.time(dates[0], false, w.startedAt))
            return 0;
        if (!c.key("last_heartbeat_at") || !c.time(dates[1], true, w.lastHeartbeatAt))
            return 0;
        if (!c.nullableText("current_build"))
            return 0;
        w.currentBuild = c.s.data() ? qstr(c.s) : QString();
        if (!c.number("rtt_ms", w.rttMs) || !c.number("packet_loss", w.packetLoss))
            return 0;
        std::size_t outer = 0;
        static_assert(int(FailureReason::ETimedOut) == 0 && int(FailureReason::BuildError) == 3);
        if (!c.enter("recent_failures", outer) || !c.integer("ETIMEDOUT", w.recentFailures[0])
            || !c.integer("ECONNRESET", w.recentFailures[1]) || !c.integer("EHOSTUNREACH", w.recentFailures[2])
            || !c.integer("build_error", w.recentFailures[3]) || !c.leave(outer))
            return 0;
        if (!c.nullableText("offline_reason"))
            return 0;
        w.offlineReason = c.s.data() ? intern(c.s, WorkerOfflineReason) : QString();
        if (!c.nullableText("operation"))
            return 0;
        w.operation = c.s.data() ? intern(c.s, WorkerOperation) : QString();
        return c.p == c.end ? c.end + 1 : 0;
    }

    // A JSON array of workers; `tapeIndex` is where it starts on the tape, or 0 if not known (then: the DOM).
    std::vector<Worker> workerList(const sj::dom::element &v, std::size_t tapeIndex)
    {
        std::vector<Worker> out;
        sj::dom::array a;
        const std::uint64_t *t = parser.doc.tape.get();
        if (fastPath && tapeIndex != 0 && !v.get_array().get(a) && tapeType(t[tapeIndex]) == '[') {
            out.reserve(a.size());
            const std::size_t end = std::size_t(std::uint32_t(t[tapeIndex])) - 1;
            for (std::size_t i = tapeIndex + 1; i < end;) {
                const std::size_t next = tapeWorker(i, out.emplace_back());
                if (next == 0) {
                    out.pop_back();
                    break;
                }
                i = next;
            }
        }
        fastWorkers = out.size();
        // The rest through the DOM, from the first worker the fast path did not take.
        return array<Worker>(
            v, [this](const sj::dom::element &x, Worker &w) { worker(x, w); }, std::move(out));
    }

    void region(const sj::dom::element &v, Region &r)
    {
        static constexpr std::array<std::string_view, 10> f { "id"sv, "name"sv, "provider"sv, "location"sv,
            "dispatch_state"sv, "dispatch_changed_by"sv, "dispatch_reason"sv, "capacity"sv, "workers_by_state"sv,
            "network"sv };
        static constexpr std::array<std::string_view, 2> cap { "max_workers"sv, "max_provision_per_request"sv };
        static constexpr std::array<std::string_view, 3> net { "packet_loss"sv, "rtt_ms_p50"sv, "rtt_ms_p95"sv };
        object(v, f, all(10), &r.unknown, [&](std::size_t i, const sj::dom::element &e) {
            switch (i) {
            case 0:
                r.id = string(e, RegionId);
                break;
            case 1:
                r.name = string(e);
                break;
            case 2:
                r.provider = string(e);
                break;
            case 3:
                r.location = string(e);
                break;
            case 4:
                r.dispatchState = enumValue<DispatchState>(e, f[i], r.unknown);
                break;
            case 5:
                r.dispatchChangedBy = nullableString(e);
                break;
            case 6:
                r.dispatchReason = nullableString(e);
                break;
            case 7:
                object(e, cap, all(2), nullptr, [&](std::size_t k, const sj::dom::element &x) {
                    (k == 0 ? r.capacity.maxWorkers : r.capacity.maxProvisionPerRequest)
                        = lenientCount(x, cap[k], r.unknown);
                });
                break;
            case 8:
                counts(e, r.workersByState, &r.unknown);
                break;
            case 9:
                object(e, net, all(3), nullptr, [&](std::size_t k, const sj::dom::element &x) {
                    const double n = number(x);
                    (k == 0 ? r.packetLoss : k == 1 ? r.rttP50Ms : r.rttP95Ms) = n;
                });
                break;
            }
        });
    }

    void healthSample(const sj::dom::element &v, HealthSample &s)
    {
        static constexpr std::array<std::string_view, 9> f { "time"sv, "step_s"sv, "samples"sv, "workers_by_state"sv,
            "builds"sv, "failures"sv, "rtt_ms"sv, "packet_loss"sv, "queue"sv };
        static constexpr std::array<std::string_view, 3> builds { "started"sv, "succeeded"sv, "failed"sv };
        static constexpr std::array<std::string_view, 2> rtt { "p50"sv, "p95"sv };
        static constexpr std::array<std::string_view, 3> queue { "depth"sv, "wait_s_p50"sv, "wait_s_p95"sv };
        bool sawNull = false;
        object(v, f, all(9), nullptr, [&](std::size_t i, const sj::dom::element &e) {
            if (i >= 3 && e.is_null()) {
                sawNull = true; // a gap: no data in this bucket
                return;
            }
            switch (i) {
            case 0:
                s.time = time(e, false);
                break;
            case 1:
                s.stepSeconds = count(e);
                break;
            case 2:
                s.samples = count(e);
                break;
            case 3:
                counts(e, s.workersByState);
                break;
            case 4:
                object(e, builds, all(3), nullptr, [&](std::size_t k, const sj::dom::element &x) {
                    const int n = count(x);
                    (k == 0 ? s.buildsStarted : k == 1 ? s.buildsSucceeded : s.buildsFailed) = n;
                });
                break;
            case 5:
                failures(e, s.failures, nullptr, "");
                break;
            case 6:
                object(e, rtt, all(2), nullptr,
                    [&](std::size_t k, const sj::dom::element &x) { (k == 0 ? s.rttP50Ms : s.rttP95Ms) = number(x); });
                break;
            case 7:
                s.packetLoss = number(e);
                break;
            case 8:
                object(e, queue, all(3), nullptr, [&](std::size_t k, const sj::dom::element &x) {
                    if (k == 0)
                        s.queueDepth = count(x);
                    else
                        (k == 1 ? s.waitP50Seconds : s.waitP95Seconds) = number(x);
                });
                break;
            }
        });
        if (!failed() && sawNull && s.samples > 0)
            fail(QStringLiteral("a bucket with samples > 0 has null metrics"));
    }

    void operation(const sj::dom::element &v, Operation &op)
    {
        static constexpr std::array<std::string_view, 15> f { "id"sv, "type"sv, "state"sv, "region"sv, "worker"sv,
            "params"sv, "progress"sv, "reason"sv, "requested_by"sv, "idempotency_key"sv, "created_at"sv, "updated_at"sv,
            "finished_at"sv, "expires_at"sv, "message"sv };
        static constexpr std::array<std::string_view, 2> params { "count"sv, "arch"sv };
        static constexpr std::array<std::string_view, 2> progress { "done"sv, "total"sv };
        object(v, f, all(15), &op.unknown, [&](std::size_t i, const sj::dom::element &e) {
            switch (i) {
            case 0:
                op.id = string(e);
                break;
            case 1:
                op.type = enumValue<OperationType>(e, f[i], op.unknown);
                break;
            case 2:
                op.state = enumValue<OperationState>(e, f[i], op.unknown);
                break;
            case 3:
                op.region = string(e, OperationRegion);
                break;
            case 4:
                op.worker = nullableString(e);
                break;
            case 5:
                if (!e.is_null())
                    object(e, params, all(2), nullptr, [&](std::size_t k, const sj::dom::element &x) {
                        if (k == 0)
                            op.count = count(x);
                        else
                            op.arch = enumValue<Arch>(x, "params.arch"sv, op.unknown);
                    });
                break;
            case 6:
                object(e, progress, all(2), nullptr, [&](std::size_t k, const sj::dom::element &x) {
                    (k == 0 ? op.progressDone : op.progressTotal) = count(x);
                });
                break;
            case 7:
                op.reason = string(e);
                break;
            case 8:
                op.requestedBy = string(e, OperationRequestedBy);
                break;
            case 9:
                op.idempotencyKey = nullableString(e);
                break;
            case 10:
                op.createdAt = time(e, false);
                break;
            case 11:
                op.updatedAt = time(e, false);
                break;
            case 12:
                op.finishedAt = time(e, true);
                break;
            case 13:
                op.expiresAt = time(e, true);
                break;
            case 14:
                op.message = nullableString(e);
                break;
            }
        });
    }

    void audit(const sj::dom::element &v, AuditEntry &a)
    {
        static constexpr std::array<std::string_view, 10> f { "id"sv, "time"sv, "actor"sv, "role"sv, "action"sv,
            "target"sv, "reason"sv, "result"sv, "detail"sv, "operation"sv };
        object(v, f, all(10), &a.unknown, [&](std::size_t i, const sj::dom::element &e) {
            switch (i) {
            case 0:
                a.id = string(e);
                break;
            case 1:
                a.time = time(e, false);
                break;
            case 2:
                a.actor = string(e, AuditActor);
                break;
            case 3:
                a.role = enumValue<Role>(e, f[i], a.unknown);
                break;
            case 4:
                a.action = string(e, AuditAction);
                break;
            case 5:
                a.target = string(e);
                break;
            case 6:
                a.reason = nullableString(e);
                break;
            case 7:
                a.result = string(e, AuditResult);
                break;
            case 8:
                a.detail = nullableString(e);
                break;
            case 9:
                a.operation = nullableString(e);
                break;
            }
        });
    }

    template <typename T, typename Fn> void page(const sj::dom::element &v, Page<T> &p, Fn &&decodeOne)
    {
        static constexpr std::array<std::string_view, 3> f { "items"sv, "next_cursor"sv, "total"sv };
        object(v, f, all(3), nullptr, [&](std::size_t i, const sj::dom::element &e) {
            switch (i) {
            case 0:
                if constexpr (std::is_same_v<T, Worker>)
                    p.items = workerList(e, rootMember("items"sv));
                else
                    p.items = array<T>(e, decodeOne);
                break;
            case 1:
                p.nextCursor = nullableString(e);
                break;
            case 2:
                p.total = count(e);
                break;
            }
        });
    }

    template <typename T, typename Fn> Result<T> run(const QByteArray &json, const QString &where, Fn &&decode)
    {
        endpoint = where;
        sj::dom::element root;
        T value {};
        if (parse(json, &root))
            decode(root, value);
        if (failed()) {
            error = composeError();
            return Result<T>::failure(error);
        }
        return Result<T>::success(std::move(value));
    }
};

WireDecoder::WireDecoder()
    : d(std::make_unique<Private>())
{
}

WireDecoder::~WireDecoder() = default;

void WireDecoder::setWorkerFastPath(bool enabled)
{
    d->fastPath = enabled && sj::SIMDJSON_VERSION_MAJOR == 3;
}

qsizetype WireDecoder::lastFastPathWorkers() const
{
    return qsizetype(d->fastWorkers);
}

Result<Snapshot> WireDecoder::snapshot(const QByteArray &json, const QString &endpoint)
{
    return d->run<Snapshot>(json, endpoint, [this](const sj::dom::element &root, Snapshot &s) {
        static constexpr std::array<std::string_view, 5> f { "sequence"sv, "time"sv, "regions"sv, "workers"sv,
            "operations"sv };
        d->object(root, f, Private::all(5), nullptr, [&](std::size_t i, const sj::dom::element &e) {
            switch (i) {
            case 0:
                s.sequence = d->sequence(e);
                break;
            case 1:
                s.time = d->time(e, false);
                break;
            case 2:
                s.regions = d->array<Region>(e, [this](const sj::dom::element &x, Region &r) { d->region(x, r); });
                break;
            case 3:
                s.workers = d->workerList(e, d->rootMember("workers"sv));
                break;
            case 4:
                s.operations
                    = d->array<Operation>(e, [this](const sj::dom::element &x, Operation &o) { d->operation(x, o); });
                break;
            }
        });
    });
}

Result<Identity> WireDecoder::identity(const QByteArray &json, const QString &endpoint)
{
    return d->run<Identity>(json, endpoint, [this](const sj::dom::element &root, Identity &id) {
        static constexpr std::array<std::string_view, 5> f { "id"sv, "name"sv, "role"sv, "roles"sv, "server_time"sv };
        QMap<QString, QString> unknown;
        d->object(root, f, Private::all(4), &unknown, [&](std::size_t i, const sj::dom::element &e) {
            switch (i) {
            case 0:
                id.id = d->string(e);
                break;
            case 1:
                id.name = d->string(e);
                break;
            case 2:
                id.role = d->enumValue<Role>(e, f[i], unknown);
                break;
            case 3:
                if (e.type() != sj::dom::element_type::ARRAY)
                    d->expected("an array", e);
                break;
            case 4:
                id.serverTime = d->time(e, true);
                break;
            }
        });
    });
}

Result<Region> WireDecoder::region(const QByteArray &json, const QString &endpoint)
{
    return d->run<Region>(json, endpoint, [this](const sj::dom::element &root, Region &r) { d->region(root, r); });
}

Result<Page<Region>> WireDecoder::regions(const QByteArray &json, const QString &endpoint)
{
    return d->run<Page<Region>>(json, endpoint, [this](const sj::dom::element &root, Page<Region> &p) {
        d->page(root, p, [this](const sj::dom::element &x, Region &r) { d->region(x, r); });
    });
}

Result<Worker> WireDecoder::worker(const QByteArray &json, const QString &endpoint)
{
    return d->run<Worker>(json, endpoint, [this](const sj::dom::element &root, Worker &w) { d->worker(root, w); });
}

Result<Page<Worker>> WireDecoder::workers(const QByteArray &json, const QString &endpoint)
{
    return d->run<Page<Worker>>(json, endpoint, [this](const sj::dom::element &root, Page<Worker> &p) {
        d->page(root, p, [this](const sj::dom::element &x, Worker &w) { d->worker(x, w); });
    });
}

Result<HealthHistory> WireDecoder::health(const QByteArray &json, const QString &endpoint)
{
    return d->run<HealthHistory>(json, endpoint, [this](const sj::dom::element &root, HealthHistory &h) {
        static constexpr std::array<std::string_view, 6> f { "region"sv, "from"sv, "to"sv, "step_s"sv,
            "history_start"sv, "buckets"sv };
        d->object(root, f, Private::all(6), nullptr, [&](std::size_t i, const sj::dom::element &e) {
            switch (i) {
            case 0:
                h.region = d->string(e, Private::HealthRegion);
                break;
            case 1:
                h.from = d->time(e, false);
                break;
            case 2:
                h.to = d->time(e, false);
                break;
            case 3:
                h.stepSeconds = d->count(e);
                break;
            case 4:
                h.historyStart = d->time(e, false);
                break;
            case 5:
                h.buckets = d->array<HealthSample>(
                    e, [this](const sj::dom::element &x, HealthSample &s) { d->healthSample(x, s); });
                break;
            }
        });
    });
}

Result<Operation> WireDecoder::operation(const QByteArray &json, const QString &endpoint)
{
    return d->run<Operation>(
        json, endpoint, [this](const sj::dom::element &root, Operation &o) { d->operation(root, o); });
}

Result<Page<Operation>> WireDecoder::operations(const QByteArray &json, const QString &endpoint)
{
    return d->run<Page<Operation>>(json, endpoint, [this](const sj::dom::element &root, Page<Operation> &p) {
        d->page(root, p, [this](const sj::dom::element &x, Operation &o) { d->operation(x, o); });
    });
}

Result<Page<AuditEntry>> WireDecoder::audit(const QByteArray &json, const QString &endpoint)
{
    return d->run<Page<AuditEntry>>(json, endpoint, [this](const sj::dom::element &root, Page<AuditEntry> &p) {
        d->page(root, p, [this](const sj::dom::element &x, AuditEntry &a) { d->audit(x, a); });
    });
}

Result<DryRunResult> WireDecoder::dryRun(const QByteArray &json, const QString &endpoint)
{
    return d->run<DryRunResult>(json, endpoint, [this](const sj::dom::element &root, DryRunResult &r) {
        static constexpr std::array<std::string_view, 5> f { "dry_run"sv, "action"sv, "target"sv, "impact"sv,
            "notes"sv };
        static constexpr std::array<std::string_view, 8> impact { "workers_affected"sv, "running_builds"sv,
            "queued_builds"sv, "active_workers_before"sv, "active_workers_after"sv, "region_workers"sv, "max_workers"sv,
            "capacity_left"sv };
        d->object(root, f, Private::all(5), nullptr, [&](std::size_t i, const sj::dom::element &e) {
            switch (i) {
            case 0:
                if (!d->boolean(e))
                    d->fail(QStringLiteral("dry_run must be true"));
                break;
            case 1:
                r.action = d->string(e);
                break;
            case 2:
                r.target = d->string(e);
                break;
            case 3:
                d->object(e, impact, Private::all(8), nullptr, [&](std::size_t k, const sj::dom::element &x) {
                    int *fields[] = { &r.workersAffected, &r.runningBuilds, &r.queuedBuilds, &r.activeWorkersBefore,
                        &r.activeWorkersAfter, &r.regionWorkers, &r.maxWorkers, &r.capacityLeft };
                    *fields[k] = d->count(x);
                });
                break;
            case 4: {
                const auto notes
                    = d->array<QString>(e, [this](const sj::dom::element &x, QString &s) { s = d->string(x); });
                r.notes = QStringList(notes.begin(), notes.end());
                break;
            }
            }
        });
    });
}

Result<Problem> WireDecoder::problem(const QByteArray &json, const QString &endpoint)
{
    return d->run<Problem>(json, endpoint, [this](const sj::dom::element &root, Problem &p) {
        static constexpr std::array<std::string_view, 7> f { "type"sv, "title"sv, "status"sv, "detail"sv, "instance"sv,
            "invalid_params"sv, "operation"sv };
        static constexpr std::array<std::string_view, 2> param { "name"sv, "reason"sv };
        d->object(root, f, 0, nullptr, [&](std::size_t i, const sj::dom::element &e) {
            switch (i) {
            case 0:
                p.type = d->string(e);
                break;
            case 1:
                p.title = d->string(e);
                break;
            case 2:
                p.status = d->count(e);
                break;
            case 3:
                p.detail = d->string(e);
                break;
            case 4:
                break;
            case 5:
                d->array<int>(e, [&](const sj::dom::element &x, int &) {
                    QString name, reason;
                    d->object(x, param, Private::all(2), nullptr,
                        [&](std::size_t k, const sj::dom::element &y) { (k == 0 ? name : reason) = d->string(y); });
                    p.invalidParams.append({ name, reason });
                });
                break;
            case 6:
                p.operation = d->nullableString(e);
                break;
            }
        });
    });
}

Result<FleetEvent> WireDecoder::event(qint64 id, const QString &type, const QByteArray &data)
{
    const QString where = QStringLiteral("event %1 (%2)").arg(id).arg(type);
    FleetEvent ev;
    ev.id = id;
    ev.type = type;
    auto wrap = [&](auto result) -> Result<FleetEvent> {
        if (!result)
            return Result<FleetEvent>::failure(result.error());
        ev.payload = result.take();
        return Result<FleetEvent>::success(std::move(ev));
    };
    if (type == QLatin1String("worker"))
        return wrap(worker(data, where));
    if (type == QLatin1String("region"))
        return wrap(region(data, where));
    if (type == QLatin1String("operation"))
        return wrap(operation(data, where));
    if (type == QLatin1String("audit"))
        return wrap(d->run<AuditEntry>(
            data, where, [this](const sj::dom::element &root, AuditEntry &a) { d->audit(root, a); }));
    if (type == QLatin1String("health")) {
        return wrap(d->run<RegionHealth>(data, where, [this](const sj::dom::element &root, RegionHealth &h) {
            static constexpr std::array<std::string_view, 2> f { "region"sv, "sample"sv };
            d->object(root, f, Private::all(2), nullptr, [&](std::size_t i, const sj::dom::element &e) {
                if (i == 0)
                    h.region = d->string(e, Private::HealthRegion);
                else
                    d->healthSample(e, h.sample);
            });
        }));
    }
    if (type == QLatin1String("resync")) {
        return wrap(d->run<Resync>(data, where, [this](const sj::dom::element &root, Resync &r) {
            static constexpr std::array<std::string_view, 2> f { "reason"sv, "sequence"sv };
            d->object(root, f, Private::all(2), nullptr, [&](std::size_t i, const sj::dom::element &e) {
                if (i == 0)
                    r.reason = d->string(e);
                else
                    r.sequence = d->sequence(e);
            });
        }));
    }
    return Result<FleetEvent>::success(std::move(ev)); // a type from a newer server: counted, not applied
}

} // namespace fleet
