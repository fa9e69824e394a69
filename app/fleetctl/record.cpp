#include "record.h"

#include "fleetsession.h"
#include "fleetstore.h"
#include "healthmonitor.h"
#include "incidentbundle.h"
#include "incidentmetrics.h"
#include "incidentrecorder.h"
#include "incidenttimeline.h"
#include "isotime.h"
#include "localstore.h"
#include "terminalsafe.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QSaveFile>

#include <cmath>

namespace fleet::ctl {

namespace {

int usage(const QString &message)
{
    err() << "fleetctl: " << message << Qt::endl;
    return Usage;
}

// A bundle written whole or not at all (QSaveFile): a full disk leaves the old file, if any, as it was.
QString writeBundle(const bundle::Bundle &b, const QString &path)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
    auto line
        = [&file](const QByteArray &bytes) { return file.write(bytes) == bytes.size() && file.write("\n", 1) == 1; };
    bool ok = line(bundle::encodeHeader(b.header));
    for (const bundle::Event &e : b.events)
        ok = ok && line(bundle::encodeEvent(e));
    for (const bundle::Samples &s : b.samples)
        ok = ok && line(bundle::encodeSamples(s));
    if (!ok || !file.commit())
        return QStringLiteral("cannot write %1: %2 (nothing was written)").arg(path, file.errorString());
    return {};
}

QString describe(const bundle::Bundle &b)
{
    int verdicts = 0;
    int operations = 0;
    int updates = 0;
    int alerts = 0;
    for (const bundle::Event &e : b.events) {
        verdicts += e.kind == bundle::Event::Kind::Verdict;
        operations += e.kind == bundle::Event::Kind::Operation;
        updates += e.kind == bundle::Event::Kind::StatusUpdate;
        alerts += e.kind == bundle::Event::Kind::Alert;
    }
    qint64 seconds = 0;
    for (const bundle::Samples &s : b.samples)
        seconds += s.seconds();
    return QStringLiteral("%1 to %2 UTC: %3 verdict changes, %4 operation states, %5 status updates, %6 alerts, %7 s "
                          "of health in %8 regions")
        .arg(formatIsoUtc(b.header.fromMs), formatIsoUtc(b.header.toMs))
        .arg(verdicts)
        .arg(operations)
        .arg(updates)
        .arg(alerts)
        .arg(seconds)
        .arg(b.header.regions.size());
}

void printMetrics(const IncidentMetrics &m, bool json)
{
    if (json) {
        out() << m.toJson();
        out().flush();
        return;
    }
    if (m.isEmpty()) {
        out() << "no region was in trouble in this window: nothing to measure" << Qt::endl;
        return;
    }
    auto at = [](qint64 ms) { return ms ? formatIsoUtc(ms / 1000 * 1000) : QStringLiteral("-"); };
    auto figure = [](std::optional<qint64> ms, const QString &missing) {
        return ms ? IncidentMetrics::duration(*ms) : QStringLiteral("unknown: ") + missing;
    };
    out() << "region            " << terminalSafe(m.regionName.isEmpty() ? m.region : m.regionName) << Qt::endl;
    out() << "first symptom     " << at(m.symptomMs) << Qt::endl;
    out() << "verdict           " << at(m.verdictMs) << Qt::endl;
    out() << "acknowledged      " << at(m.acknowledgedMs)
          << (m.acknowledgedBy.isEmpty() ? QString() : QStringLiteral("  ") + terminalSafe(m.acknowledgedBy, 160))
          << Qt::endl;
    out() << "first mitigation  " << at(m.mitigationMs)
          << (m.mitigation.isEmpty() ? QString() : QStringLiteral("  ") + terminalSafe(m.mitigation, 160)) << Qt::endl;
    out() << "mitigated         " << at(m.mitigatedMs) << Qt::endl;
    out() << "time to detect      " << terminalSafe(figure(m.detectMs(), m.detectMissing)) << Qt::endl;
    out() << "time to acknowledge " << terminalSafe(figure(m.acknowledgeMs(), m.acknowledgeMissing)) << Qt::endl;
    out() << "time to mitigate    " << terminalSafe(figure(m.mitigateMs(), m.mitigateMissing))
          << (m.alreadyUnderAtMitigation ? " (failures were already under the threshold then)" : "") << Qt::endl;
}

} // namespace

int runRecord(const Options &o, const RecordOptions &r)
{
    if (r.out.isEmpty())
        return usage(QStringLiteral("record needs --out FILE, the bundle to write"));
    if (r.forMs < 1000 || r.forMs > 7LL * 86400 * 1000)
        return usage(QStringLiteral("record needs --for DURATION from 1s to 7d, e.g. 30m, 2h"));
    stopWaitingOnSignal();
    FleetSession session;
    if (const int rc = connectSession(session, o, false); rc != Ok)
        return rc;
    const FleetStore *store = session.store();
    bundle::Bundle b;
    b.header.fleet = IncidentRecorder::fleetKey(o.config.baseUrl);
    b.header.recordedBy = QStringLiteral("fleetctl record");
    // Ten minutes before the start too (the history the connection backfilled): a symptom starts before a verdict.
    const qint64 startMs = store->fleetNowMs();
    b.header.fromMs = (startMs / 1000 - IncidentRecorder::kPreRollSeconds) * 1000;
    b.header.title = QStringLiteral("%1 from %2").arg(b.header.fleet, formatIsoUtc(startMs / 1000 * 1000));
    QObject::connect(session.healthMonitor(), &HealthMonitor::verdictChanged,
        [&b](const VerdictChange &c) { b.events << IncidentRecorder::eventOf(c); });
    QSet<QString> seen; // operation id and state
    auto operations = [&] {
        for (const Operation &op : store->operations()) {
            const QString key = QStringLiteral("%1/%2").arg(op.id).arg(int(op.state));
            const bundle::Event e = IncidentRecorder::eventOf(op);
            if (seen.contains(key) || e.atMs < b.header.fromMs)
                continue;
            seen.insert(key);
            b.events << e;
        }
    };
    operations();
    QObject::connect(session.store()->operationTable(), &EntityTable::changed, operations);
    QObject::connect(session.store()->operationTable(), &EntityTable::inserted, operations);
    if (!o.json)
        err() << "fleetctl: recording " << terminalSafe(b.header.fleet) << " for " << IncidentMetrics::duration(r.forMs)
              << " into " << terminalSafe(r.out) << " (Ctrl-C ends it early)" << Qt::endl;
    QElapsedTimer clock;
    clock.start();
    waitUntil([&clock, &r] { return clock.elapsed() >= r.forMs; }, int(std::min<qint64>(r.forMs + 1000, INT_MAX)));
    operations();

    b.header.toMs = store->fleetNowMs() / 1000 * 1000;
    for (const Region &region : store->regions())
        b.header.regions << region;
    b.header.thresholds = thresholdMap(session.healthMonitor()->thresholds());
    const HealthTimeline &history = store->history();
    const QStringList regions = history.regions();
    const qint64 block = IncidentRecorder::kBlockSeconds;
    for (qint64 s = b.header.fromMs / 1000; s <= b.header.toMs / 1000; s += block) {
        for (int i = 0; i < regions.size(); ++i) {
            if (store->regionRow(regions[i]) < 0)
                continue; // a region the header does not name (gone since)
            bundle::Samples samples;
            samples.region = regions[i];
            samples.fromSecond = s;
            bool any = false;
            const qint64 last = std::min(s + block - 1, b.header.toMs / 1000);
            for (int c = 0; c < bundle::kColumnCount; ++c) {
                history.series(i, HealthTimeline::Metric(c), s, last, &samples.columns[std::size_t(c)]);
                for (const float v : samples.columns[std::size_t(c)])
                    any = any || !std::isnan(v);
            }
            if (any)
                b.samples << samples;
        }
    }
    std::stable_sort(b.events.begin(), b.events.end(),
        [](const bundle::Event &x, const bundle::Event &y) { return x.atMs < y.atMs; });
    session.shutdown();
    if (const QString error = writeBundle(b, r.out); !error.isEmpty()) {
        err() << "fleetctl: " << terminalSafe(error) << Qt::endl;
        return Failed;
    }
    if (o.json)
        printJson(QJsonObject { { QStringLiteral("kind"), QStringLiteral("recorded") },
            { QStringLiteral("file"), r.out }, { QStringLiteral("from"), formatIsoUtc(b.header.fromMs) },
            { QStringLiteral("to"), formatIsoUtc(b.header.toMs) }, { QStringLiteral("events"), b.events.size() },
            { QStringLiteral("sample_blocks"), b.samples.size() } });
    else
        out() << "recorded " << terminalSafe(describe(b)) << " into " << terminalSafe(r.out) << Qt::endl;
    return Ok;
}

int runIncidentRecord(const QStringList &args, const RecordOptions &r)
{
    const QString sub = args.value(1);
    bundle::Bundle b;
    if (sub == QLatin1String("metrics") && !r.bundle.isEmpty()) {
        QFile file(r.bundle);
        if (!file.open(QIODevice::ReadOnly))
            return usage(QStringLiteral("cannot read %1: %2").arg(r.bundle, file.errorString()));
        if (file.size() > bundle::kMaxFileBytes)
            return usage(QStringLiteral("%1 is %2 MB; an incident bundle is at most %3 MB")
                             .arg(r.bundle)
                             .arg(file.size() >> 20)
                             .arg(bundle::kMaxFileBytes >> 20));
        auto decoded = bundle::decode(file.readAll(), r.bundle);
        if (!decoded)
            return usage(terminalSafe(decoded.error()));
        b = decoded.take();
        // The window asked for, within the bundle.
        if (r.fromMs > 0 || r.toMs > 0) {
            const qint64 lo = r.fromMs > 0 ? r.fromMs : std::numeric_limits<qint64>::min();
            const qint64 hi = r.toMs > 0 ? r.toMs : std::numeric_limits<qint64>::max();
            b.events.removeIf([lo, hi](const bundle::Event &e) { return e.atMs < lo || e.atMs > hi; });
        }
    } else {
        if (sub == QLatin1String("export") && r.out.isEmpty())
            return usage(QStringLiteral("incident export needs --out FILE, the bundle to write"));
        LocalStore store;
        if (const Status opened = store.open(r.storePath); !opened)
            return usage(terminalSafe(opened.error()));
        auto read = IncidentRecorder::read(&store, r.fleet, r.fromMs, r.toMs);
        if (!read)
            return usage(terminalSafe(read.error()));
        b = read.take();
    }
    if (sub == QLatin1String("export")) {
        if (const QString error = writeBundle(b, r.out); !error.isEmpty()) {
            err() << "fleetctl: " << terminalSafe(error) << Qt::endl;
            return Failed;
        }
        if (r.json)
            printJson(QJsonObject { { QStringLiteral("kind"), QStringLiteral("exported") },
                { QStringLiteral("file"), r.out }, { QStringLiteral("fleet"), b.header.fleet },
                { QStringLiteral("from"), formatIsoUtc(b.header.fromMs) },
                { QStringLiteral("to"), formatIsoUtc(b.header.toMs) }, { QStringLiteral("events"), b.events.size() },
                { QStringLiteral("sample_blocks"), b.samples.size() } });
        else
            out() << "exported " << terminalSafe(b.header.fleet) << ", " << terminalSafe(describe(b)) << " into "
                  << terminalSafe(r.out) << Qt::endl;
        return Ok;
    }
    printMetrics(measureBundle(b), r.json);
    return Ok;
}

} // namespace fleet::ctl
