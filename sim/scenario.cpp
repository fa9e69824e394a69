#include "scenario.h"

#include "incidentbundle.h"
#include "isotime.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <limits>

namespace fleet::sim {

namespace {

// Reads fields of one JSON object and collects the first error with its path, so that loading stays linear.
class FieldReader
{
public:
    FieldReader(const QJsonObject &object, QString path, QString *error)
        : m_object(object)
        , m_path(std::move(path))
        , m_error(error)
    {
    }

    bool ok() const { return m_error->isEmpty(); }

    QString string(const char *key, bool required, const QString &fallback = {})
    {
        const QJsonValue v = m_object.value(QLatin1String(key));
        if (v.isUndefined() && !required)
            return fallback;
        if (!v.isString() || v.toString().isEmpty()) {
            fail(key, QStringLiteral("must be a non-empty string"));
            return fallback;
        }
        return v.toString();
    }

    double number(const char *key, double fallback, double min, double max)
    {
        const QJsonValue v = m_object.value(QLatin1String(key));
        if (v.isUndefined())
            return fallback;
        if (!v.isDouble() || v.toDouble() < min || v.toDouble() > max) {
            fail(key, QStringLiteral("must be a number from %1 to %2").arg(min).arg(max));
            return fallback;
        }
        return v.toDouble();
    }

    std::optional<double> optionalNumber(const char *key, double min, double max)
    {
        if (!m_object.contains(QLatin1String(key)))
            return std::nullopt;
        return number(key, 0, min, max);
    }

    void fail(const char *key, const QString &what)
    {
        if (m_error->isEmpty())
            *m_error = QStringLiteral("%1.%2 %3").arg(m_path, QLatin1String(key), what);
    }

private:
    QJsonObject m_object;
    QString m_path;
    QString *m_error;
};

// "HH:MM" or "HH:MM:SS" on the scenario's start day (the next day if earlier than the start), or RFC 3339.
std::optional<qint64> parseAt(const QString &text, qint64 start)
{
    if (auto absolute = parseIsoUtc(text))
        return absolute;
    const QStringList parts = text.split(u':');
    if (parts.size() < 2 || parts.size() > 3)
        return std::nullopt;
    int values[3] = { 0, 0, 0 };
    for (int i = 0; i < parts.size(); ++i) {
        bool ok = false;
        values[i] = parts[i].toInt(&ok);
        if (!ok || values[i] < 0 || values[i] > (i == 0 ? 23 : 59))
            return std::nullopt;
    }
    const qint64 dayStart = start - start % 86'400'000;
    qint64 at = dayStart + (values[0] * 3600LL + values[1] * 60 + values[2]) * 1000;
    if (at < start)
        at += 86'400'000;
    return at;
}

} // namespace

void Scenario::startAt(qint64 newStart)
{
    const qint64 shift = newStart - start;
    start = newStart;
    for (ScenarioEvent &e : timeline)
        e.at += shift;
}

int Scenario::totalWorkers() const
{
    int total = 0;
    for (const auto &r : regions) {
        for (int n : r.workers)
            total += n;
    }
    return total;
}

QStringList Scenario::builtInNames()
{
    QStringList names;
    const auto entries = QDir(QStringLiteral(":/scenarios")).entryList({ QStringLiteral("*.json") }, QDir::Files);
    for (const QString &file : entries)
        names << QFileInfo(file).completeBaseName();
    return names;
}

namespace {
std::optional<Scenario> parseScenario(const QByteArray &json, const QString &origin, QString *error);
}

Result<Scenario> Scenario::load(const QString &nameOrPath)
{
    QString e;
    QString *error = &e;
    QString path = nameOrPath;
    if (!nameOrPath.contains(u'/') && !nameOrPath.endsWith(QLatin1String(".json")))
        path = QStringLiteral(":/scenarios/%1.json").arg(nameOrPath);
    QFile file(path);
    if (!path.startsWith(u':') && file.open(QIODevice::ReadOnly)) {
        // An incident bundle (its first line says so) is replayed rather than simulated.
        const QByteArray head = file.peek(256);
        if (head.contains("\"format\":\"fleet-console-incident\"")
            || head.contains("\"format\": \"fleet-console-incident\"")) {
            if (file.size() > bundle::kMaxFileBytes)
                return Result<Scenario>::failure(
                    QStringLiteral("%1 is larger than an incident bundle may be").arg(path));
            return fromBundle(file.readAll(), QFileInfo(path).fileName());
        }
        file.close();
    }
    if (!file.open(QIODevice::ReadOnly)) {
        if (path.startsWith(u':')) {
            *error = QStringLiteral("No built-in scenario named \"%1\". Built-in scenarios: %2. "
                                    "A path to a scenario JSON file works too.")
                         .arg(nameOrPath, builtInNames().join(QLatin1String(", ")));
        } else {
            *error = QStringLiteral("Cannot read scenario file %1: %2").arg(path, file.errorString());
        }
        return Result<Scenario>::failure(e);
    }
    return fromJson(file.readAll(), path.startsWith(u':') ? nameOrPath : path);
}

Result<Scenario> Scenario::fromBundle(const QByteArray &file, const QString &origin)
{
    using R = Result<Scenario>;
    auto decoded = bundle::decode(file, origin);
    if (!decoded)
        return R::failure(decoded.error());
    const bundle::Bundle &b = *decoded;
    if (b.header.regions.isEmpty() || b.samples.isEmpty())
        return R::failure(QStringLiteral("%1 has no regions or no health to replay").arg(origin));
    qint64 first = b.samples.first().fromSecond;
    qint64 last = first;
    for (const bundle::Samples &block : b.samples)
        last = std::max(last, block.fromSecond + block.seconds() - 1);
    if (last - first > 31LL * 86400)
        return R::failure(QStringLiteral("%1 spans more than 31 days of health").arg(origin));
    Scenario s;
    s.name = QStringLiteral("replay");
    s.title = b.header.title.isEmpty() ? QStringLiteral("Replay of %1").arg(origin) : b.header.title;
    s.description = QStringLiteral("A recorded incident (%1, recorded by %2) served as it was recorded: health, "
                                   "workers by state and operations; actions are refused.")
                        .arg(origin, b.header.recordedBy);
    s.start = (first - 1) * 1000;
    auto recording = std::make_shared<Recording>();
    recording->file = origin;
    recording->startMs = s.start;
    const qint64 seconds = last - first + 1;
    for (const Region &region : b.header.regions) {
        ScenarioRegion r;
        r.id = region.id;
        r.name = region.name;
        r.provider = region.provider;
        r.location = region.location;
        r.maxProvisionPerRequest = std::max(1, region.capacity.maxProvisionPerRequest);
        r.rttMs = region.rttP50Ms;
        r.packetLoss = region.packetLoss;
        s.regions.push_back(r);
        recording->seconds.emplace_back(std::size_t(seconds));
        for (auto &v : recording->seconds.back())
            v.fill(std::numeric_limits<float>::quiet_NaN());
    }
    auto regionOf = [&s](const QString &id) {
        for (std::size_t i = 0; i < s.regions.size(); ++i)
            if (s.regions[i].id == id)
                return int(i);
        return -1;
    };
    for (const bundle::Samples &block : b.samples) {
        const int r = regionOf(block.region);
        for (int i = 0; r >= 0 && i < block.seconds(); ++i) {
            std::array<float, 16> &v = recording->seconds[std::size_t(r)][std::size_t(block.fromSecond + i - first)];
            for (int c = 0; c < bundle::kColumnCount; ++c)
                v[std::size_t(c)] = block.columns[std::size_t(c)][std::size_t(i)];
        }
    }
    // The fleet at the start: as many workers per region as the first recorded second counts (the most of them
    // recorded, so a region that grows has room), split over the arches as the scenarios split builds.
    for (std::size_t r = 0; r < s.regions.size(); ++r) {
        int firstCount = -1;
        int most = 0;
        for (const auto &v : recording->seconds[r]) {
            if (std::isnan(v[0]))
                continue;
            const int n = int(v[0] + v[1] + v[2] + v[3]);
            if (firstCount < 0)
                firstCount = n;
            most = std::max(most, n);
        }
        const int n = std::max(firstCount, 0);
        s.regions[r].workers = { int(std::lround(n * 0.7)), int(std::lround(n * 0.2)), 0 };
        s.regions[r].workers[2] = std::max(0, n - s.regions[r].workers[0] - s.regions[r].workers[1]);
        s.regions[r].maxWorkers = std::max({ most, b.header.regions[int(r)].capacity.maxWorkers, 1 });
    }
    for (const bundle::Event &e : b.events) {
        if (e.kind != bundle::Event::Kind::Operation || regionOf(e.operation.region) < 0)
            continue;
        recording->operations.push_back(e.operation);
        recording->operationTimes.push_back(e.atMs);
    }
    s.recording = std::move(recording);
    return R::success(std::move(s));
}

Result<Scenario> Scenario::fromJson(const QByteArray &json, const QString &origin)
{
    QString error;
    std::optional<Scenario> s = parseScenario(json, origin, &error);
    return s ? Result<Scenario>::success(std::move(*s)) : Result<Scenario>::failure(error);
}

namespace {

std::optional<Scenario> parseScenario(const QByteArray &json, const QString &origin, QString *error)
{
    error->clear();
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (!doc.isObject()) {
        *error = QStringLiteral("Scenario %1 is not a JSON object: %2 at byte %3")
                     .arg(origin, parseError.errorString())
                     .arg(parseError.offset);
        return std::nullopt;
    }
    const QJsonObject root = doc.object();
    Scenario s;
    FieldReader top(root, QStringLiteral("scenario"), error);
    s.name = top.string("name", true);
    s.title = top.string("title", false, s.name);
    s.description = top.string("description", false);
    const QString startText = top.string("start", true);
    s.warmupSeconds = static_cast<int>(top.number("warmup_s", 0, 0, 7 * 86400));
    if (!top.ok())
        return std::nullopt;
    const auto start = parseIsoUtc(startText);
    if (!start) {
        *error = QStringLiteral("scenario.start must be an RFC 3339 time such as 2025-11-12T08:00:00Z");
        return std::nullopt;
    }
    s.start = *start - *start % 1000;

    const QJsonObject load = root.value(QLatin1String("load")).toObject();
    FieldReader loadReader(load, QStringLiteral("load"), error);
    s.utilization = loadReader.number("utilization", 0.6, 0.01, 1.5);
    s.meanBuildSeconds = loadReader.number("mean_build_s", 240, 10, 7200);
    const QJsonObject mix = load.value(QLatin1String("arch_mix")).toObject();
    if (!mix.isEmpty()) {
        FieldReader mixReader(mix, QStringLiteral("load.arch_mix"), error);
        double sum = 0;
        for (int a = 0; a < kArchCount; ++a) {
            s.archMix[a] = mixReader.number(wireName(static_cast<Arch>(a)).toLatin1().constData(), 0, 0, 1);
            sum += s.archMix[a];
        }
        if (error->isEmpty() && sum <= 0)
            *error = QStringLiteral("load.arch_mix must give at least one architecture a share above 0");
        for (double &share : s.archMix)
            share /= sum > 0 ? sum : 1;
    }
    if (!error->isEmpty())
        return std::nullopt;

    const QJsonArray regions = root.value(QLatin1String("regions")).toArray();
    if (regions.isEmpty()) {
        *error = QStringLiteral("scenario.regions must list at least one region");
        return std::nullopt;
    }
    for (int i = 0; i < regions.size(); ++i) {
        const QJsonObject o = regions.at(i).toObject();
        FieldReader r(o, QStringLiteral("regions[%1]").arg(i), error);
        ScenarioRegion region;
        region.id = r.string("id", true);
        region.name = r.string("name", false, region.id);
        region.provider = r.string("provider", false, QStringLiteral("unknown"));
        region.location = r.string("location", false, QStringLiteral("unknown"));
        region.weight = r.number("weight", 1, 0, 1000);
        region.rttMs = r.number("rtt_ms", 30, 0.1, 10000);
        region.packetLoss = r.number("packet_loss", 0, 0, 1);
        region.maxProvisionPerRequest = static_cast<int>(r.number("max_provision_per_request", 200, 1, 100000));
        const QJsonObject workers = o.value(QLatin1String("workers")).toObject();
        FieldReader w(workers, QStringLiteral("regions[%1].workers").arg(i), error);
        int total = 0;
        for (int a = 0; a < kArchCount; ++a) {
            region.workers[a]
                = static_cast<int>(w.number(wireName(static_cast<Arch>(a)).toLatin1().constData(), 0, 0, 1'000'000));
            total += region.workers[a];
        }
        region.maxWorkers = static_cast<int>(r.number("max_workers", std::max(total * 2, 10), 1, 10'000'000));
        if (!error->isEmpty())
            return std::nullopt;
        for (const auto &existing : s.regions) {
            if (existing.id == region.id) {
                *error = QStringLiteral("regions[%1].id \"%2\" is used twice").arg(i).arg(region.id);
                return std::nullopt;
            }
        }
        s.regions.push_back(region);
    }

    const QJsonArray timeline = root.value(QLatin1String("timeline")).toArray();
    for (int i = 0; i < timeline.size(); ++i) {
        const QJsonObject o = timeline.at(i).toObject();
        FieldReader r(o, QStringLiteral("timeline[%1]").arg(i), error);
        ScenarioEvent e;
        const QString at = r.string("at", true);
        e.region = r.string("region", true);
        e.packetLoss = r.optionalNumber("packet_loss", 0, 1);
        e.rttMs = r.optionalNumber("rtt_ms", 0.1, 10000);
        e.demand = r.optionalNumber("demand", 0, 100);
        e.rampSeconds = static_cast<int>(r.number("ramp_s", 0, 0, 86400));
        e.note = r.string("note", false);
        if (!error->isEmpty())
            return std::nullopt;
        const auto when = parseAt(at, s.start);
        if (!when) {
            *error
                = QStringLiteral("timeline[%1].at \"%2\" must be HH:MM, HH:MM:SS or an RFC 3339 time").arg(i).arg(at);
            return std::nullopt;
        }
        e.at = *when;
        const bool known
            = std::any_of(s.regions.begin(), s.regions.end(), [&](const auto &reg) { return reg.id == e.region; });
        if (!known) {
            *error = QStringLiteral("timeline[%1].region \"%2\" is not one of the scenario's regions")
                         .arg(i)
                         .arg(e.region);
            return std::nullopt;
        }
        s.timeline.push_back(e);
    }
    std::stable_sort(s.timeline.begin(), s.timeline.end(), [](const auto &a, const auto &b) { return a.at < b.at; });
    return s;
}

} // namespace

} // namespace fleet::sim
