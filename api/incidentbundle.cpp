#include "incidentbundle.h"

#include "clientconfig.h"
#include "isotime.h"
#include "jsonwriter.h"
#include "wiredecode.h"
#include "wireencode.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>

#include <cmath>
#include <limits>

// The incident bundle's lines both ways (issue #24). In the wire library: a bundle is a file from anywhere, read as
// carefully as a server's answer, and the fuzz target builds this without the clients. Operations and regions are
// written and read by the Fleet API's own encoders and decoders, so a bundle holds them exactly as the fleet said.

namespace fleet::bundle {

namespace {

constexpr qsizetype kMaxText = 25000; // a status update's body, at most
constexpr qsizetype kMaxShort = 500; // names, reasons, summaries
constexpr int kMaxThresholds = 64;
// Times a bundle may hold: 2000-01-01 .. 2100-01-01 UTC.
constexpr qint64 kEarliestMs = 946684800000LL;
constexpr qint64 kLatestMs = 4102444800000LL;

const char *const kKinds[] = { "verdict", "operation", "status_update", "alert" };

QString fail(const QString &origin, const QString &why)
{
    return QStringLiteral("%1: %2").arg(origin, why);
}

// The checked reading of one JSON object: each getter records the first problem, naming the field.
class Reader
{
public:
    Reader(const QJsonObject &o, QString origin)
        : m_o(o)
        , m_origin(std::move(origin))
    {
    }

    QString text(const char *key, qsizetype limit, bool required = false)
    {
        const QJsonValue v = m_o.value(QLatin1String(key));
        if (v.isUndefined() || v.isNull()) {
            if (required)
                problem(key, QStringLiteral("missing"));
            return {};
        }
        if (!v.isString()) {
            problem(key, QStringLiteral("expected a string"));
            return {};
        }
        const QString s = v.toString();
        if (s.size() > limit)
            problem(key, QStringLiteral("longer than %1 characters").arg(limit));
        return s;
    }
    QString id(const char *key, const char *what, bool required = true)
    {
        const QString s = text(key, kMaxIdLength, required);
        if (!s.isEmpty() || required) {
            if (const QString p = idProblem(s, QLatin1String(what)); !p.isEmpty())
                problem(key, p);
        }
        return s;
    }
    qint64 time(const char *key)
    {
        const QString s = text(key, 64, true);
        if (s.isEmpty())
            return 0;
        const std::optional<qint64> t = parseIsoUtc(s);
        if (!t || *t < kEarliestMs || *t > kLatestMs) {
            problem(key, QStringLiteral("not a UTC time between 2000 and 2100"));
            return 0;
        }
        return *t;
    }
    QJsonObject object(const char *key)
    {
        const QJsonValue v = m_o.value(QLatin1String(key));
        if (!v.isObject()) {
            problem(key, QStringLiteral("expected an object"));
            return {};
        }
        return v.toObject();
    }
    void problem(const char *key, const QString &why)
    {
        if (m_error.isEmpty())
            m_error = QStringLiteral("%1: %2: %3").arg(m_origin, QLatin1String(key), why);
    }
    QString error() const { return m_error; }

private:
    QJsonObject m_o;
    QString m_origin;
    QString m_error;
};

Result<QJsonObject> parseLine(const QByteArray &line, const QString &origin)
{
    using R = Result<QJsonObject>;
    if (line.size() > kMaxLineBytes)
        return R::failure(
            fail(origin, QStringLiteral("a line of %1 bytes (at most %2)").arg(line.size()).arg(kMaxLineBytes)));
    QJsonParseError e;
    const QJsonDocument doc = QJsonDocument::fromJson(line, &e);
    if (e.error != QJsonParseError::NoError)
        return R::failure(fail(origin, QStringLiteral("not JSON (%1 at byte %2)").arg(e.errorString()).arg(e.offset)));
    if (!doc.isObject())
        return R::failure(fail(origin, QStringLiteral("not a JSON object")));
    return R::success(doc.object());
}

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

Result<Header> readHeader(const QJsonObject &o, const QString &origin)
{
    using R = Result<Header>;
    Reader r(o, origin);
    if (r.text("format", 64, true) != QLatin1String(kFormat))
        return R::failure(fail(origin,
            QStringLiteral("not an incident bundle (its first line has no \"format\": \"%1\")")
                .arg(QLatin1String(kFormat))));
    const QJsonValue version = o.value(QLatin1String("version"));
    if (!version.isDouble() || version.toDouble() != 1.0 * version.toInt())
        return R::failure(fail(origin, QStringLiteral("version: expected a whole number")));
    Header h;
    h.version = version.toInt();
    if (h.version > kVersion || h.version < 1)
        return R::failure(fail(origin,
            QStringLiteral("version %1 of the bundle format; this program reads up to version %2: open it with a newer "
                           "Fleet Console")
                .arg(h.version)
                .arg(kVersion)));
    h.fleet = r.text("fleet", 2000);
    h.title = r.text("title", kMaxShort);
    h.recordedBy = r.text("recorded_by", 200);
    h.fromMs = r.time("from");
    h.toMs = r.time("to");
    if (r.error().isEmpty() && h.toMs < h.fromMs)
        r.problem("to", QStringLiteral("before \"from\""));
    const QJsonValue regions = o.value(QLatin1String("regions"));
    if (!regions.isArray())
        r.problem("regions", QStringLiteral("expected an array"));
    else if (regions.toArray().size() > kMaxRegions)
        r.problem("regions", QStringLiteral("more than %1 regions").arg(kMaxRegions));
    if (!r.error().isEmpty())
        return R::failure(r.error());
    WireDecoder decoder;
    const QJsonArray list = regions.toArray();
    for (qsizetype i = 0; i < list.size(); ++i) {
        if (!list.at(i).isObject())
            return R::failure(fail(origin, QStringLiteral("regions[%1]: expected an object").arg(i)));
        auto region
            = decoder.region(compact(list.at(i).toObject()), QStringLiteral("%1: regions[%2]").arg(origin).arg(i));
        if (!region)
            return R::failure(region.error());
        if (const QString p = idProblem(region->id, QStringLiteral("region")); !p.isEmpty())
            return R::failure(fail(origin, QStringLiteral("regions[%1].id: %2").arg(i).arg(p)));
        h.regions << region.take();
    }
    const QJsonValue thresholds = o.value(QLatin1String("thresholds"));
    if (!thresholds.isUndefined()) {
        if (!thresholds.isObject() || thresholds.toObject().size() > kMaxThresholds)
            return R::failure(fail(
                origin, QStringLiteral("thresholds: expected an object of at most %1 numbers").arg(kMaxThresholds)));
        const QJsonObject t = thresholds.toObject();
        for (auto it = t.begin(); it != t.end(); ++it) {
            const double v = it.value().toDouble(std::numeric_limits<double>::quiet_NaN());
            if (it.key().size() > 64 || !it.value().isDouble() || !std::isfinite(v) || v < 0 || v > 1e9)
                return R::failure(fail(
                    origin, QStringLiteral("thresholds: \"%1\" is not a number from 0 to 1e9").arg(it.key().left(64))));
            h.thresholds.insert(it.key(), v);
        }
    }
    return R::success(h);
}

Result<Event> readEvent(const QJsonObject &o, const QString &origin)
{
    using R = Result<Event>;
    Reader r(o, origin);
    Event e;
    const QString kind = r.text("kind", 32, true);
    e.atMs = r.time("at");
    if (!r.error().isEmpty())
        return R::failure(r.error());
    if (kind == QLatin1String("verdict")) {
        e.kind = Event::Kind::Verdict;
        e.region = r.id("region", "region");
        e.regionName = r.text("region_name", kMaxShort);
        e.from = r.text("from", 32);
        e.to = r.text("to", 32, true);
        e.reason = r.text("reason", kMaxShort);
        for (const QString *v : { &e.from, &e.to }) {
            if (!v->isEmpty() && *v != QLatin1String("healthy") && *v != QLatin1String("degraded")
                && *v != QLatin1String("down") && *v != QLatin1String("no data"))
                r.problem(v == &e.from ? "from" : "to", QStringLiteral("not a verdict"));
        }
    } else if (kind == QLatin1String("operation")) {
        e.kind = Event::Kind::Operation;
        const QJsonObject op = r.object("operation");
        if (!r.error().isEmpty())
            return R::failure(r.error());
        WireDecoder decoder;
        auto decoded = decoder.operation(compact(op), origin + QStringLiteral(": operation"));
        if (!decoded)
            return R::failure(decoded.error());
        e.operation = decoded.take();
        if (const QString p = idProblem(e.operation.id, QStringLiteral("operation")); !p.isEmpty())
            r.problem("operation.id", p);
        if (!e.operation.region.isEmpty())
            if (const QString p = idProblem(e.operation.region, QStringLiteral("region")); !p.isEmpty())
                r.problem("operation.region", p);
        e.region = e.operation.region;
    } else if (kind == QLatin1String("status_update")) {
        e.kind = Event::Kind::StatusUpdate;
        e.incidentId = r.id("incident", "incident", false);
        e.incidentName = r.text("incident_name", kMaxShort);
        e.updateId = r.id("update", "update", false);
        e.status = r.text("status", 32, true);
        e.body = r.text("body", kMaxText);
    } else if (kind == QLatin1String("alert")) {
        e.kind = Event::Kind::Alert;
        e.alertName = r.text("name", kMaxShort, true);
        e.fingerprint = r.text("fingerprint", 128);
        e.region = r.text("region", kMaxIdLength);
        e.to = r.text("state", 32, true);
        e.body = r.text("summary", kMaxShort);
        if (r.error().isEmpty() && e.to != QLatin1String("firing") && e.to != QLatin1String("resolved"))
            r.problem("state", QStringLiteral("expected \"firing\" or \"resolved\""));
    } else {
        return R::failure(
            fail(origin, QStringLiteral("kind: \"%1\" is not an event this program knows").arg(kind.left(32))));
    }
    if (!r.error().isEmpty())
        return R::failure(r.error());
    return R::success(e);
}

Result<Samples> readSamples(const QJsonObject &o, const QString &origin)
{
    using R = Result<Samples>;
    Reader r(o, origin);
    Samples s;
    s.region = r.id("region", "region");
    const qint64 fromMs = r.time("from");
    const QJsonObject columns = r.object("columns");
    if (!r.error().isEmpty())
        return R::failure(r.error());
    if (fromMs % 1000 != 0)
        return R::failure(fail(origin, QStringLiteral("from: not a whole second")));
    s.fromSecond = fromMs / 1000;
    qsizetype length = -1;
    const auto &names = columnNames();
    for (int c = 0; c < kColumnCount; ++c) {
        const QJsonValue v = columns.value(QLatin1String(names[std::size_t(c)]));
        if (!v.isArray())
            return R::failure(fail(
                origin, QStringLiteral("columns.%1: expected an array").arg(QLatin1String(names[std::size_t(c)]))));
        const QJsonArray a = v.toArray();
        if (length < 0)
            length = a.size();
        if (a.size() != length || length > kMaxBlockSeconds)
            return R::failure(fail(origin,
                QStringLiteral("columns.%1: %2 values (every column the same length, at most %3)")
                    .arg(QLatin1String(names[std::size_t(c)]))
                    .arg(a.size())
                    .arg(kMaxBlockSeconds)));
        std::vector<float> &out = s.columns[std::size_t(c)];
        out.reserve(std::size_t(length));
        for (const QJsonValue &x : a) {
            if (x.isNull()) {
                out.push_back(std::numeric_limits<float>::quiet_NaN());
                continue;
            }
            const double d = x.toDouble(-1);
            if (!x.isDouble() || !std::isfinite(d) || d < 0 || d > 1e9)
                return R::failure(fail(origin,
                    QStringLiteral("columns.%1: a value that is not a number from 0 to 1e9 (null for no sample)")
                        .arg(QLatin1String(names[std::size_t(c)]))));
            out.push_back(float(d));
        }
    }
    return R::success(s);
}

void writeValue(JsonWriter &w, float v)
{
    if (std::isnan(v))
        w.null();
    else if (v == std::floor(v) && std::fabs(v) < 1e9f)
        w.value(qint64(v));
    else
        w.value(double(v));
}

} // namespace

const std::array<const char *, kColumnCount> &columnNames()
{
    static const std::array<const char *, kColumnCount> names { "workers_idle", "workers_busy", "workers_offline",
        "workers_provisioning", "builds_started", "builds_succeeded", "builds_failed", "failures_etimedout",
        "failures_econnreset", "failures_ehostunreach", "failures_build_error", "rtt_p50_ms", "rtt_p95_ms",
        "packet_loss", "queue_depth", "wait_p95_s" };
    return names;
}

QString kindName(Event::Kind kind)
{
    return QLatin1String(kKinds[int(kind)]);
}

QString Event::key() const
{
    QString what;
    switch (kind) {
    case Kind::Verdict:
        what = region + u'>' + to;
        break;
    case Kind::Operation:
        what = operation.id + u'>' + QString::number(int(operation.state));
        break;
    case Kind::StatusUpdate:
        what = updateId.isEmpty() ? incidentId + u'>' + status : updateId;
        break;
    case Kind::Alert:
        what = fingerprint + u'>' + to;
        break;
    }
    return QStringLiteral("%1/%2/%3").arg(kindName(kind)).arg(atMs).arg(what);
}

QByteArray encodeHeader(const Header &h)
{
    QByteArray out;
    JsonWriter w(&out);
    w.beginObject();
    w.field("format", kFormat);
    w.field("version", h.version);
    w.field("fleet", QStringView(h.fleet));
    w.field("title", QStringView(h.title));
    w.field("recorded_by", QStringView(h.recordedBy));
    w.key("from");
    w.timestamp(h.fromMs);
    w.key("to");
    w.timestamp(h.toMs);
    w.key("regions");
    w.beginArray();
    for (const Region &r : h.regions)
        writeRegion(w, r);
    w.endArray();
    w.key("thresholds");
    w.beginObject();
    for (auto it = h.thresholds.cbegin(); it != h.thresholds.cend(); ++it) {
        const QByteArray name = it.key().toUtf8();
        w.field(name.constData(), it.value());
    }
    w.endObject();
    w.endObject();
    return out;
}

QByteArray encodeEvent(const Event &e)
{
    QByteArray out;
    JsonWriter w(&out);
    w.beginObject();
    w.key("at");
    w.timestamp(e.atMs);
    w.field("kind", kKinds[int(e.kind)]);
    switch (e.kind) {
    case Event::Kind::Verdict:
        w.field("region", QStringView(e.region));
        w.field("region_name", QStringView(e.regionName));
        w.field("from", QStringView(e.from));
        w.field("to", QStringView(e.to));
        w.field("reason", QStringView(e.reason));
        break;
    case Event::Kind::Operation:
        w.key("operation");
        writeOperation(w, e.operation);
        break;
    case Event::Kind::StatusUpdate:
        w.nullableString("incident", e.incidentId);
        w.field("incident_name", QStringView(e.incidentName));
        w.nullableString("update", e.updateId);
        w.field("status", QStringView(e.status));
        w.field("body", QStringView(e.body));
        break;
    case Event::Kind::Alert:
        w.field("name", QStringView(e.alertName));
        w.field("fingerprint", QStringView(e.fingerprint));
        w.field("region", QStringView(e.region));
        w.field("state", QStringView(e.to));
        w.field("summary", QStringView(e.body));
        break;
    }
    w.endObject();
    return out;
}

QByteArray encodeSamples(const Samples &s)
{
    QByteArray out;
    out.reserve(64 + qsizetype(s.seconds()) * kColumnCount * 4);
    JsonWriter w(&out);
    w.beginObject();
    w.key("at");
    w.timestamp(s.fromSecond * 1000);
    w.field("kind", "samples");
    w.field("region", QStringView(s.region));
    w.key("from");
    w.timestamp(s.fromSecond * 1000);
    w.key("columns");
    w.beginObject();
    const auto &names = columnNames();
    for (int c = 0; c < kColumnCount; ++c) {
        w.key(names[std::size_t(c)]);
        w.beginArray();
        for (const float v : s.columns[std::size_t(c)])
            writeValue(w, v);
        w.endArray();
    }
    w.endObject();
    w.endObject();
    return out;
}

Result<Event> decodeEvent(const QByteArray &line, const QString &origin)
{
    auto o = parseLine(line, origin);
    if (!o)
        return Result<Event>::failure(o.error());
    return readEvent(*o, origin);
}

Result<Samples> decodeSamples(const QByteArray &line, const QString &origin)
{
    auto o = parseLine(line, origin);
    if (!o)
        return Result<Samples>::failure(o.error());
    return readSamples(*o, origin);
}

Result<Bundle> decode(const QByteArray &file, const QString &origin)
{
    using R = Result<Bundle>;
    if (file.size() > kMaxFileBytes)
        return R::failure(fail(origin,
            QStringLiteral("%1 MB; an incident bundle is at most %2 MB")
                .arg(file.size() >> 20)
                .arg(kMaxFileBytes >> 20)));
    Bundle b;
    qsizetype pos = 0;
    int lineNo = 0;
    bool haveHeader = false;
    QSet<QString> regions;
    while (pos < file.size()) {
        qsizetype end = file.indexOf('\n', pos);
        if (end < 0)
            end = file.size();
        const QByteArray line = file.mid(pos, end - pos).trimmed();
        pos = end + 1;
        ++lineNo;
        if (line.isEmpty())
            continue;
        const QString where = QStringLiteral("%1: line %2").arg(origin).arg(lineNo);
        auto o = parseLine(line, where);
        if (!o)
            return R::failure(o.error());
        if (!haveHeader) {
            auto h = readHeader(*o, where);
            if (!h)
                return R::failure(h.error());
            b.header = h.take();
            for (const Region &r : std::as_const(b.header.regions))
                regions.insert(r.id);
            haveHeader = true;
            continue;
        }
        if (o->value(QLatin1String("kind")).toString() == QLatin1String("samples")) {
            auto s = readSamples(*o, where);
            if (!s)
                return R::failure(s.error());
            if (!regions.contains(s->region))
                return R::failure(
                    fail(where, QStringLiteral("region: \"%1\" is not one of the header's regions").arg(s->region)));
            b.samples << s.take();
            continue;
        }
        auto e = readEvent(*o, where);
        if (!e)
            return R::failure(e.error());
        b.events << e.take();
    }
    if (!haveHeader)
        return R::failure(fail(origin, QStringLiteral("empty: an incident bundle starts with its header line")));
    std::stable_sort(b.events.begin(), b.events.end(), [](const Event &x, const Event &y) { return x.atMs < y.atMs; });
    std::stable_sort(b.samples.begin(), b.samples.end(),
        [](const Samples &x, const Samples &y) { return x.fromSecond < y.fromSecond; });
    return R::success(b);
}

} // namespace fleet::bundle
