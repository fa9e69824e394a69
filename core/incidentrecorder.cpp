#include "incidentrecorder.h"

#include "currentincident.h"
#include "fleetsession.h"
#include "fleetstore.h"
#include "healthmonitor.h"
#include "incidentmetrics.h"
#include "incidenttimeline.h"
#include "localstore.h"
#include "statusoutbox.h"

#include "isotime.h"
#include "jsonwriter.h"
#include "wiredecode.h"
#include "wireencode.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>

#include <cmath>

namespace fleet {

Q_LOGGING_CATEGORY(lcRecord, "fleet.record")

namespace {

QString notNull(const QString &s)
{
    return s.isNull() ? QStringLiteral("") : s;
}

QByteArray regionsJson(const std::vector<Region> &regions)
{
    QByteArray out;
    JsonWriter w(&out);
    w.beginArray();
    for (const Region &r : regions)
        writeRegion(w, r);
    w.endArray();
    return out;
}

QByteArray thresholdsJson(const QMap<QString, double> &t)
{
    QJsonObject o;
    for (auto it = t.cbegin(); it != t.cend(); ++it)
        o.insert(it.key(), it.value());
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

} // namespace

IncidentRecorder::IncidentRecorder(FleetSession *session)
    : QObject(session)
    , m_session(session)
{
    connect(session, &FleetSession::profileChanged, this, &IncidentRecorder::fleetChanged);
    connect(session, &FleetSession::localStoreChanged, this, [this] {
        m_restoredThisFleet = false;
        followOutbox();
        restore();
    });
    connect(session->healthMonitor(), &HealthMonitor::verdictChanged, this, &IncidentRecorder::onVerdict);
    connect(session->healthMonitor(), &HealthMonitor::thresholdsChanged, this, &IncidentRecorder::writeMeta);
    connect(session->store(), &FleetStore::healthChanged, this, &IncidentRecorder::onHealth);
    connect(session->store(), &FleetStore::snapshotApplied, this, [this] {
        writeMeta();
        onOperations();
    });
    EntityTable *ops = session->store()->operationTable();
    connect(ops, &EntityTable::inserted, this, &IncidentRecorder::onOperations);
    connect(ops, &EntityTable::changed, this, &IncidentRecorder::onOperations);
    connect(session->timeline(), &IncidentTimeline::alertRecorded, this,
        [this](const AmAlert &alert, const QString &state, qint64 atMs) {
            bundle::Event e;
            e.kind = bundle::Event::Kind::Alert;
            e.atMs = atMs;
            e.alertName = alert.name();
            e.fingerprint = alert.fingerprint;
            e.region = alert.labels.value(QStringLiteral("region"));
            e.to = state;
            e.body = alert.annotations.value(QStringLiteral("summary"));
            record(e);
        });
    connect(session->currentIncident(), &CurrentIncident::changed, this, [this] {
        if (const auto &incident = m_session->currentIncident()->incident())
            recordIncident(*incident);
    });
}

QString IncidentRecorder::fleetKey(const QUrl &url)
{
    return url.adjusted(QUrl::RemoveUserInfo | QUrl::RemoveQuery | QUrl::RemoveFragment | QUrl::StripTrailingSlash)
        .toString();
}

void IncidentRecorder::setLimits(int retentionDays, int capMegabytes)
{
    m_retentionDays = std::max(1, retentionDays);
    m_capMb = std::max(1, capMegabytes);
    pruneNow();
}

void IncidentRecorder::fleetChanged()
{
    const QString fleet = fleetKey(m_session->profile().url);
    if (fleet == m_fleet)
        return;
    m_fleet = fleet;
    m_recorded.clear();
    m_operationStates.clear();
    m_recording = false;
    m_nextBlock = 0;
    m_recordUntil = 0;
    m_restoredThisFleet = false;
    restore();
}

void IncidentRecorder::followOutbox()
{
    if (StatusOutbox *outbox = m_session->statusOutbox())
        connect(outbox, &StatusOutbox::delivered, this,
            [this](const LocalStore::OutboxEntry &, const status::Incident &incident) { recordIncident(incident); });
}

void IncidentRecorder::restore()
{
    LocalStore *store = m_session->localStore();
    if (m_restoredThisFleet || m_fleet.isEmpty() || !store->isOpen())
        return;
    m_restoredThisFleet = true;
    pruneNow();
    const QString fleet = m_fleet;
    store->queueRead(this, [this, fleet](QSqlDatabase &db) -> std::function<void()> {
        QSqlQuery q(db);
        q.prepare(QStringLiteral("SELECT line FROM record_events WHERE fleet = ? ORDER BY at_ms DESC LIMIT ?"));
        q.addBindValue(fleet);
        q.addBindValue(kRestoreLimit);
        QList<bundle::Event> events;
        if (!q.exec())
            qCWarning(lcRecord).noquote() << "could not read the incident record:" << q.lastError().text();
        while (q.next()) {
            auto e = bundle::decodeEvent(q.value(0).toByteArray(), QStringLiteral("the local store's record"));
            if (e)
                events.prepend(e.take());
            else
                qCWarning(lcRecord).noquote() << "a recorded event left out:" << e.error();
        }
        return [this, fleet, events] {
            if (fleet != m_fleet)
                return; // another fleet since
            for (const bundle::Event &e : events)
                m_recorded.insert(e.key());
            Q_EMIT restored(events);
        };
    });
}

void IncidentRecorder::record(const bundle::Event &event)
{
    LocalStore *store = m_session->localStore();
    if (m_fleet.isEmpty() || !store->isOpen() || m_session->isReplaying())
        return;
    const QString key = event.key();
    if (m_recorded.contains(key))
        return;
    m_recorded.insert(key);
    const QByteArray line = bundle::encodeEvent(event);
    const QString fleet = m_fleet;
    const QString kind = bundle::kindName(event.kind);
    const qint64 at = event.atMs;
    const QString region = event.region;
    store->queueWrite(
        tr("record the %1 at %2").arg(kind, formatIsoUtc(at)), [fleet, key, at, kind, region, line](QSqlDatabase &db) {
            QSqlQuery q(db);
            q.prepare(QStringLiteral("INSERT OR IGNORE INTO record_events (fleet, key, at_ms, kind, region, line, "
                                     "recorded_ms) VALUES (?, ?, ?, ?, ?, ?, ?)"));
            q.addBindValue(fleet);
            q.addBindValue(key);
            q.addBindValue(at);
            q.addBindValue(kind);
            q.addBindValue(notNull(region));
            q.addBindValue(line);
            q.addBindValue(QDateTime::currentMSecsSinceEpoch());
            return q.exec() ? QString() : q.lastError().text();
        });
}

bundle::Event IncidentRecorder::eventOf(const VerdictChange &change)
{
    bundle::Event e;
    e.kind = bundle::Event::Kind::Verdict;
    e.atMs = change.atSecond * 1000;
    e.region = change.region;
    e.regionName = change.regionName;
    e.from = wireName(change.from);
    e.to = wireName(change.to);
    e.reason = change.reason;
    return e;
}

bundle::Event IncidentRecorder::eventOf(const Operation &op)
{
    bundle::Event e;
    e.kind = bundle::Event::Kind::Operation;
    e.atMs = op.state == OperationState::Pending ? op.createdAt : std::max(op.updatedAt, op.createdAt);
    e.operation = op;
    e.region = op.region;
    return e;
}

void IncidentRecorder::onVerdict(const VerdictChange &change)
{
    record(eventOf(change));
}

void IncidentRecorder::onOperations()
{
    // One row per state an operation was seen in (its progress in between is not news): a lookup per operation, no
    // allocation, on every change of the operations table.
    for (const Operation &op : m_session->store()->operations()) {
        auto it = m_operationStates.find(op.id);
        if (it != m_operationStates.end() && *it == op.state)
            continue;
        m_operationStates.insert(op.id, op.state);
        record(eventOf(op));
    }
}

void IncidentRecorder::recordIncident(const status::Incident &incident)
{
    for (const status::IncidentUpdate &u : incident.updates) {
        bundle::Event e;
        e.kind = bundle::Event::Kind::StatusUpdate;
        e.atMs = u.createdAt;
        e.incidentId = incident.id;
        e.incidentName = incident.name;
        e.updateId = u.id;
        e.status = u.status;
        e.body = u.body;
        record(e);
    }
}

void IncidentRecorder::writeMeta()
{
    LocalStore *store = m_session->localStore();
    if (m_fleet.isEmpty() || !store->isOpen() || !m_session->store()->isLoaded())
        return;
    const QByteArray regions = regionsJson(m_session->store()->regions());
    const QByteArray thresholds = thresholdsJson(thresholdMap(m_session->healthMonitor()->thresholds()));
    const QString fleet = m_fleet;
    store->queueWrite(tr("record the fleet's regions and thresholds"), [fleet, regions, thresholds](QSqlDatabase &db) {
        QSqlQuery q(db);
        q.prepare(
            QStringLiteral("INSERT OR REPLACE INTO record_meta (fleet, name, value) VALUES (?, ?, ?), (?, ?, ?)"));
        q.addBindValue(fleet);
        q.addBindValue(QStringLiteral("regions"));
        q.addBindValue(regions);
        q.addBindValue(fleet);
        q.addBindValue(QStringLiteral("thresholds"));
        q.addBindValue(thresholds);
        return q.exec() ? QString() : q.lastError().text();
    });
}

void IncidentRecorder::onHealth()
{
    LocalStore *store = m_session->localStore();
    const FleetStore *fleetStore = m_session->store();
    const HealthTimeline &history = fleetStore->history();
    const qint64 latest = history.latestSecond();
    if (m_fleet.isEmpty() || !store->isOpen() || latest <= 0 || m_session->isReplaying())
        return;
    if (QDateTime::currentMSecsSinceEpoch() - m_lastPruneMs > 3600 * 1000)
        pruneNow();
    const HealthMonitor *monitor = m_session->healthMonitor();
    bool trouble = false;
    for (const QString &region : history.regions()) {
        const Verdict v = monitor->verdict(region);
        trouble = trouble || v == Verdict::Degraded || v == Verdict::Down;
    }
    if (m_nextBlock > latest + kBlockSeconds || m_nextBlock < history.oldestSecond()) {
        m_nextBlock = 0; // the fleet's clock went back (another run of a simulator) or far ahead: start again
        m_recording = false;
    }
    if (trouble) {
        if (!m_recording) {
            m_recording = true;
            const qint64 from = std::max(latest - kPreRollSeconds, history.oldestSecond());
            m_nextBlock = std::max(m_nextBlock, from - from % kBlockSeconds);
        }
        m_recordUntil = latest + kPostRollSeconds;
    }
    if (!m_recording)
        return;
    // Whole minutes only, once the newest second is past them; at most an hour of them at a time (a jump).
    for (int n = 0; n < 60 && m_nextBlock + kBlockSeconds <= latest; ++n, m_nextBlock += kBlockSeconds) {
        writeBlock(m_nextBlock, m_nextBlock + kBlockSeconds - 1);
        if (m_nextBlock + kBlockSeconds > m_recordUntil) {
            m_recording = false;
            m_nextBlock += kBlockSeconds;
            break;
        }
    }
}

void IncidentRecorder::flush()
{
    // The minute under way, as far as it goes (the next run writes it whole over this).
    const qint64 latest = m_session->store()->history().latestSecond();
    if (m_recording && m_session->localStore()->isOpen() && !m_session->isReplaying() && latest >= m_nextBlock)
        writeBlock(m_nextBlock, latest);
}

void IncidentRecorder::writeBlock(qint64 from, qint64 to)
{
    LocalStore *store = m_session->localStore();
    const HealthTimeline &history = m_session->store()->history();
    const QString fleet = m_fleet;
    const QStringList regions = history.regions();
    for (int r = 0; r < regions.size(); ++r) {
        bundle::Samples s;
        s.region = regions[r];
        s.fromSecond = from;
        bool any = false;
        for (int c = 0; c < bundle::kColumnCount; ++c) {
            history.series(r, HealthTimeline::Metric(c), from, to, &s.columns[std::size_t(c)]);
            for (const float v : s.columns[std::size_t(c)])
                any = any || !std::isnan(v);
        }
        if (!any)
            continue;
        const QByteArray line = qCompress(bundle::encodeSamples(s));
        const QString region = regions[r];
        m_samplesRecorded += to - from + 1;
        store->queueWrite(
            tr("record a minute of %1's health").arg(region), [fleet, region, from, line](QSqlDatabase &db) {
                QSqlQuery q(db);
                q.prepare(
                    QStringLiteral("INSERT OR REPLACE INTO record_samples (fleet, region, second, line, recorded_ms) "
                                   "VALUES (?, ?, ?, ?, ?)"));
                q.addBindValue(fleet);
                q.addBindValue(region);
                q.addBindValue(from);
                q.addBindValue(line);
                q.addBindValue(QDateTime::currentMSecsSinceEpoch());
                return q.exec() ? QString() : q.lastError().text();
            });
    }
}

void IncidentRecorder::pruneNow()
{
    LocalStore *store = m_session->localStore();
    if (!store->isOpen())
        return;
    m_lastPruneMs = QDateTime::currentMSecsSinceEpoch();
    const qint64 retention = qint64(m_retentionDays) * 24 * 3600 * 1000;
    const qint64 cap = qint64(m_capMb) * 1024 * 1024;
    const qint64 now = m_lastPruneMs;
    store->queueWrite(tr("drop what the incident record keeps no longer"),
        [retention, cap, now](QSqlDatabase &db) { return prune(db, retention, cap, now); });
}

QString IncidentRecorder::prune(QSqlDatabase &db, qint64 retentionMs, qint64 capBytes, qint64 nowMs)
{
    QSqlQuery q(db);
    for (const char *table : { "record_events", "record_samples" }) {
        q.prepare(QStringLiteral("DELETE FROM %1 WHERE recorded_ms < ?").arg(QLatin1String(table)));
        q.addBindValue(nowMs - retentionMs);
        if (!q.exec())
            return q.lastError().text();
    }
    // Past the cap, the oldest go first: samples (by far the most of it), then events, a tenth at a time.
    for (int round = 0; round < 200; ++round) {
        if (!q.exec(QStringLiteral("SELECT (SELECT coalesce(sum(length(line)), 0) FROM record_events) + (SELECT "
                                   "coalesce(sum(length(line)), 0) FROM record_samples), (SELECT count(*) FROM "
                                   "record_samples), (SELECT count(*) FROM record_events)"))
            || !q.next())
            return q.lastError().text();
        const qint64 size = q.value(0).toLongLong();
        const qint64 samples = q.value(1).toLongLong();
        const qint64 events = q.value(2).toLongLong();
        if (size <= capBytes || (samples == 0 && events == 0))
            return {};
        const bool fromSamples = samples > 0;
        QSqlQuery drop(db);
        drop.prepare(QStringLiteral("DELETE FROM %1 WHERE rowid IN (SELECT rowid FROM %1 ORDER BY recorded_ms, %2 "
                                    "LIMIT ?)")
                         .arg(fromSamples ? QStringLiteral("record_samples") : QStringLiteral("record_events"),
                             fromSamples ? QStringLiteral("second") : QStringLiteral("at_ms")));
        drop.addBindValue(std::max<qint64>(1, (fromSamples ? samples : events) / 10));
        if (!drop.exec())
            return drop.lastError().text();
    }
    return {};
}

qint64 IncidentRecorder::sizeBytes(LocalStore *store)
{
    qint64 size = 0;
    store->readNow([&size](QSqlDatabase &db) {
        QSqlQuery q(db);
        if (q.exec(QStringLiteral("SELECT (SELECT coalesce(sum(length(line)), 0) FROM record_events) + (SELECT "
                                  "coalesce(sum(length(line)), 0) FROM record_samples)"))
            && q.next())
            size = q.value(0).toLongLong();
    });
    return size;
}

Result<bundle::Bundle> IncidentRecorder::read(LocalStore *store, const QString &fleetWanted, qint64 fromMs, qint64 toMs)
{
    using R = Result<bundle::Bundle>;
    R out = R::failure(QString());
    const Status s = store->readNow([&](QSqlDatabase &db) {
        QSqlQuery q(db);
        QString fleet = fleetWanted;
        if (fleet.isEmpty()) {
            if (!q.exec(QStringLiteral("SELECT fleet FROM record_events ORDER BY recorded_ms DESC LIMIT 1")))
                return void(out = R::failure(q.lastError().text()));
            if (!q.next())
                return void(out = R::failure(tr("The local store %1 holds no incident record yet: a console records "
                                                "while it is connected.")
                                                 .arg(store->path())));
            fleet = q.value(0).toString();
        }
        const qint64 lo = fromMs > 0 ? fromMs : std::numeric_limits<qint64>::min();
        const qint64 hi = toMs > 0 ? toMs : std::numeric_limits<qint64>::max();
        bundle::Bundle b;
        b.header.fleet = fleet;
        b.header.recordedBy = QStringLiteral("fleet-console");
        b.header.title = tr("Incident record of %1").arg(fleet);
        q.prepare(QStringLiteral("SELECT name, value FROM record_meta WHERE fleet = ?"));
        q.addBindValue(fleet);
        if (q.exec()) {
            while (q.next()) {
                const QByteArray value = q.value(1).toByteArray();
                if (q.value(0).toString() == QLatin1String("regions")) {
                    WireDecoder decoder;
                    const QJsonArray list = QJsonDocument::fromJson(value).array();
                    for (const QJsonValue &v : list) {
                        auto r = decoder.region(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact),
                            QStringLiteral("the record's regions"));
                        if (r)
                            b.header.regions << r.take();
                    }
                } else if (q.value(0).toString() == QLatin1String("thresholds")) {
                    const QJsonObject o = QJsonDocument::fromJson(value).object();
                    for (auto it = o.begin(); it != o.end(); ++it)
                        b.header.thresholds.insert(it.key(), it.value().toDouble());
                }
            }
        }
        q.prepare(QStringLiteral(
            "SELECT line FROM record_events WHERE fleet = ? AND at_ms BETWEEN ? AND ? ORDER BY at_ms, key"));
        q.addBindValue(fleet);
        q.addBindValue(lo);
        q.addBindValue(hi);
        if (!q.exec())
            return void(out = R::failure(q.lastError().text()));
        while (q.next()) {
            auto e = bundle::decodeEvent(q.value(0).toByteArray(), tr("the local store's record"));
            if (!e)
                return void(out = R::failure(e.error()));
            b.events << e.take();
        }
        q.prepare(QStringLiteral("SELECT line FROM record_samples WHERE fleet = ? AND second BETWEEN ? AND ? ORDER BY "
                                 "second, region"));
        q.addBindValue(fleet);
        q.addBindValue(fromMs > 0 ? (fromMs / 1000 - kBlockSeconds + 1) : std::numeric_limits<qint64>::min());
        q.addBindValue(toMs > 0 ? toMs / 1000 : std::numeric_limits<qint64>::max());
        if (!q.exec())
            return void(out = R::failure(q.lastError().text()));
        while (q.next()) {
            auto samples = bundle::decodeSamples(qUncompress(q.value(0).toByteArray()), tr("the local store's record"));
            if (!samples)
                return void(out = R::failure(samples.error()));
            b.samples << samples.take();
        }
        // The window: what was asked, or what the rows cover.
        qint64 first = 0;
        qint64 last = 0;
        auto cover = [&first, &last](qint64 ms) {
            first = first ? std::min(first, ms) : ms;
            last = std::max(last, ms);
        };
        for (const bundle::Event &e : std::as_const(b.events))
            cover(e.atMs);
        for (const bundle::Samples &x : std::as_const(b.samples)) {
            cover(x.fromSecond * 1000);
            cover((x.fromSecond + x.seconds() - 1) * 1000);
        }
        b.header.fromMs = fromMs > 0 ? fromMs : first;
        b.header.toMs = toMs > 0 ? toMs : last;
        if (b.events.isEmpty() && b.samples.isEmpty())
            return void(out = R::failure(tr("The local store's record of %1 has nothing between %2 and %3.")
                                             .arg(fleet, fromMs > 0 ? formatIsoUtc(fromMs) : tr("the start"),
                                                 toMs > 0 ? formatIsoUtc(toMs) : tr("now"))));
        out = R::success(b);
    });
    if (!s)
        return R::failure(s.error());
    return out;
}

} // namespace fleet
