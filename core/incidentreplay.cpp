#include "incidentreplay.h"

#include "fleetsession.h"
#include "fleetstore.h"
#include "healthmonitor.h"
#include "incidentmetrics.h"
#include "incidenttimeline.h"

#include <QDateTime>
#include <QFile>
#include <QFileInfo>

#include <cmath>

namespace fleet {

namespace {

constexpr int kTickMs = 100;

int window(const bundle::Header &h)
{
    return int(std::clamp<qint64>((h.toMs - h.fromMs) / 1000 + 3600, 86400, 31 * 86400));
}

} // namespace

IncidentReplay::IncidentReplay(FleetSession *session, bundle::Bundle bundle, QString name)
    : QObject(session)
    , m_session(session)
    , m_bundle(std::move(bundle))
    , m_name(std::move(name))
    , m_source(window(m_bundle.header))
{
    loadHealth(m_bundle.samples, &m_source);
    // The window: the header's, narrowed to what the bundle holds (a record's header may be wider than its rows).
    m_fromMs = m_bundle.header.fromMs;
    m_toMs = std::max(m_bundle.header.toMs, m_fromMs);
    if (!m_bundle.samples.isEmpty()) {
        m_fromMs = std::max(m_fromMs, m_bundle.samples.first().fromSecond * 1000);
        m_toMs = std::min(m_toMs, m_source.latestSecond() * 1000);
    }
    m_timer.setInterval(kTickMs);
    connect(&m_timer, &QTimer::timeout, this, &IncidentReplay::tick);
}

Result<bundle::Bundle> IncidentReplay::load(const QString &path)
{
    using R = Result<bundle::Bundle>;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return R::failure(tr("Cannot read %1: %2.").arg(path, file.errorString()));
    if (file.size() > bundle::kMaxFileBytes)
        return R::failure(tr("%1 is %2 MB; an incident bundle is at most %3 MB.")
                              .arg(path)
                              .arg(file.size() >> 20)
                              .arg(bundle::kMaxFileBytes >> 20));
    auto decoded = bundle::decode(file.readAll(), QFileInfo(path).fileName());
    if (!decoded)
        return decoded;
    if (decoded->samples.isEmpty() && decoded->events.isEmpty())
        return R::failure(tr("%1 holds no health and no events: there is nothing to replay.").arg(path));
    return decoded;
}

void IncidentReplay::play()
{
    if (isAtEnd())
        seek(m_fromMs);
    m_clock.start();
    m_timer.start();
    Q_EMIT stateChanged();
}

void IncidentReplay::pause()
{
    m_timer.stop();
    Q_EMIT stateChanged();
}

void IncidentReplay::setSpeed(double speed)
{
    m_speed = std::clamp(speed, kMinSpeed, kMaxSpeed);
    Q_EMIT stateChanged();
}

void IncidentReplay::tick()
{
    const qint64 elapsed = m_clock.restart();
    const qint64 to = std::min(m_toMs, m_positionMs + qint64(double(elapsed) * m_speed));
    feedTo(to);
    if (isAtEnd()) {
        m_timer.stop();
        Q_EMIT stateChanged();
    }
}

std::vector<Operation> IncidentReplay::operationsAt(qint64 ms) const
{
    // Each operation as it last stood at `ms`.
    std::vector<Operation> out;
    QHash<QString, std::size_t> index;
    for (const bundle::Event &e : m_bundle.events) {
        if (e.atMs > ms)
            break;
        if (e.kind != bundle::Event::Kind::Operation)
            continue;
        if (const auto it = index.constFind(e.operation.id); it != index.cend()) {
            out[*it] = e.operation;
        } else {
            index.insert(e.operation.id, out.size());
            out.push_back(e.operation);
        }
    }
    return out;
}

void IncidentReplay::applyRegions(qint64 second)
{
    // Counts and network from the health of that second; dispatch from the operations so far.
    FleetStore *store = m_session->store();
    const std::vector<Operation> ops = operationsAt(second * 1000 + 999);
    for (const Region &recorded : m_bundle.header.regions) {
        Region r = recorded;
        r.dispatchState = DispatchState::Active;
        r.dispatchChangedBy.clear();
        r.dispatchReason.clear();
        for (const Operation &op : ops) {
            if (op.region != r.id || op.state == OperationState::Failed || op.state == OperationState::Cancelled)
                continue;
            if (op.type == OperationType::DrainRegion) {
                r.dispatchState
                    = op.state == OperationState::Succeeded ? DispatchState::Drained : DispatchState::Draining;
                r.dispatchChangedBy = op.requestedBy;
                r.dispatchReason = op.reason;
            } else if (op.type == OperationType::ResumeRegion && op.state == OperationState::Succeeded) {
                r.dispatchState = DispatchState::Active;
                r.dispatchChangedBy = op.requestedBy;
                r.dispatchReason = op.reason;
            }
        }
        const int index = m_source.regionIndex(r.id);
        auto value = [&](HealthTimeline::Metric m) { return m_source.value(index, m, second); };
        if (index >= 0 && !std::isnan(value(HealthTimeline::WorkersIdle))) {
            r.workersByState.fill(0);
            r.workersByState[int(WorkerState::Idle)] = int(value(HealthTimeline::WorkersIdle));
            r.workersByState[int(WorkerState::Busy)] = int(value(HealthTimeline::WorkersBusy));
            r.workersByState[int(WorkerState::Offline)] = int(value(HealthTimeline::WorkersOffline));
            r.workersByState[int(WorkerState::Provisioning)] = int(value(HealthTimeline::WorkersProvisioning));
            r.packetLoss = value(HealthTimeline::PacketLoss);
            r.rttP50Ms = value(HealthTimeline::RttP50);
            r.rttP95Ms = value(HealthTimeline::RttP95);
        }
        FleetEvent event;
        event.type = QStringLiteral("region");
        event.payload = r;
        store->applyEvent(event);
    }
}

void IncidentReplay::seek(qint64 ms)
{
    ms = std::clamp(ms, m_fromMs, m_toMs);
    FleetStore *store = m_session->store();
    store->clear();
    Snapshot snapshot;
    snapshot.sequence = 1;
    snapshot.time = ms;
    snapshot.regions.assign(m_bundle.header.regions.cbegin(), m_bundle.header.regions.cend());
    snapshot.operations = operationsAt(ms);
    store->applySnapshot(snapshot);
    // The health up to that second, straight into the history (as a backfill would bring it).
    const qint64 second = ms / 1000;
    HealthTimeline &history = store->history();
    std::array<float, HealthTimeline::MetricCount> values {};
    const QStringList regions = m_source.regions();
    const qint64 first = m_bundle.samples.isEmpty() ? second : m_bundle.samples.first().fromSecond;
    for (int r = 0; r < regions.size(); ++r) {
        for (qint64 s = first; s <= second; ++s) {
            for (int m = 0; m < HealthTimeline::MetricCount; ++m)
                values[std::size_t(m)] = m_source.value(r, HealthTimeline::Metric(m), s);
            history.recordSecond(regions[r], s, values);
        }
    }
    applyRegions(second);
    store->markHealthChanged();
    store->flush();
    m_fedSecond = second;
    m_positionMs = ms;
    // The timeline: what was recorded up to that moment.
    m_nextEvent = 0;
    QList<bundle::Event> past;
    while (m_nextEvent < m_bundle.events.size() && m_bundle.events[m_nextEvent].atMs <= ms)
        past << m_bundle.events[m_nextEvent++];
    m_session->timeline()->clear();
    m_session->timeline()->restore(past);
    m_clock.restart();
    Q_EMIT positionChanged(m_positionMs);
}

void IncidentReplay::feedTo(qint64 ms)
{
    FleetStore *store = m_session->store();
    const qint64 second = ms / 1000;
    if (second > m_fedSecond) {
        HealthTimeline &history = store->history();
        std::array<float, HealthTimeline::MetricCount> values {};
        const QStringList regions = m_source.regions();
        for (qint64 s = m_fedSecond + 1; s <= second; ++s) {
            for (int r = 0; r < regions.size(); ++r) {
                for (int m = 0; m < HealthTimeline::MetricCount; ++m)
                    values[std::size_t(m)] = m_source.value(r, HealthTimeline::Metric(m), s);
                history.recordSecond(regions[r], s, values);
            }
        }
        m_fedSecond = second;
        applyRegions(second);
        store->markHealthChanged();
    }
    QList<bundle::Event> news;
    while (m_nextEvent < m_bundle.events.size() && m_bundle.events[m_nextEvent].atMs <= ms) {
        const bundle::Event &e = m_bundle.events[m_nextEvent++];
        news << e;
        if (e.kind == bundle::Event::Kind::Operation) {
            FleetEvent event;
            event.type = QStringLiteral("operation");
            event.payload = e.operation;
            store->applyEvent(event);
        }
    }
    if (!news.isEmpty())
        m_session->timeline()->restore(news);
    m_positionMs = ms;
    Q_EMIT positionChanged(m_positionMs);
}

QString IncidentReplay::badgeText() const
{
    const QString at = QDateTime::fromMSecsSinceEpoch(m_positionMs, Qt::UTC).toString(QStringLiteral("HH:mm:ss"));
    const QString state = isAtEnd() ? tr("ended") : isPlaying() ? tr("%1x").arg(m_speed) : tr("paused");
    return tr("REPLAY · %1 · %2 UTC · %3").arg(m_name, at, state);
}

} // namespace fleet
