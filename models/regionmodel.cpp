#include "regionmodel.h"

#include "fleetstore.h"
#include "healthmonitor.h"

#include <QVariantMap>

#include <cmath>

namespace fleet {

namespace {

int severity(Verdict v)
{
    switch (v) {
    case Verdict::Down:
        return 3;
    case Verdict::Degraded:
        return 2;
    case Verdict::NoData:
        return 1;
    case Verdict::Healthy:
        break;
    }
    return 0;
}

} // namespace

RegionModel::RegionModel(FleetStore *store, HealthMonitor *monitor, QObject *parent)
    : EntityTableModel(ColumnCount, parent)
    , m_store(store)
    , m_monitor(monitor ? monitor : new HealthMonitor(store, this))
{
    // The monitor learns of the new regions first (it follows the table already, also when made just above), then
    // the view.
    follow(store->regionTable());
    connect(m_monitor, &HealthMonitor::verdictChanged, this, [this] { m_verdictChanged = true; });
    connect(m_monitor, &HealthMonitor::evaluated, this, &RegionModel::rowsChangedByMonitor);
    m_pendingSignal.setSingleShot(true);
    m_pendingSignal.setObjectName(QStringLiteral("RegionModel rows"));
    connect(&m_pendingSignal, &QTimer::timeout, this, &RegionModel::signalRows);
}

void RegionModel::setThresholds(const VerdictThresholds &thresholds)
{
    if (m_monitor)
        m_monitor->setThresholds(thresholds);
}

void RegionModel::evaluate()
{
    if (m_monitor)
        m_monitor->evaluate();
}

void RegionModel::rowsChangedByMonitor()
{
    if (m_verdictChanged || !m_lastSignal.isValid() || m_lastSignal.elapsed() >= kRowsSignalMs) {
        signalRows();
        return;
    }
    if (!m_pendingSignal.isActive())
        m_pendingSignal.start(int(std::max<qint64>(1, kRowsSignalMs - m_lastSignal.elapsed())));
}

void RegionModel::signalRows()
{
    m_pendingSignal.stop();
    m_verdictChanged = false;
    m_lastSignal.start();
    // Stats move every second: every row's numbers changed, so one block covers them all.
    if (rowCount() > 0)
        Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
}

int RegionModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() || !m_store ? 0 : int(m_store->regions().size());
}

QVariant RegionModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid) || !m_store
        || !m_monitor)
        return {};
    const Region &region = m_store->regions()[std::size_t(index.row())];
    const RegionStats stats = m_monitor->stats(region.id);
    const Verdict verdict = m_monitor->verdict(region.id);
    if (role == Qt::DisplayRole) {
        switch (Column(index.column())) {
        case RegionColumn:
            role = NameRole;
            break;
        case VerdictColumn:
            return wireName(verdict);
        case ReasonColumn:
            role = VerdictReasonRole;
            break;
        case DispatchColumn:
            return wireName(region.dispatchState).toString();
        case WorkersColumn:
            role = LiveWorkersRole;
            break;
        case SuccessColumn:
            role = SuccessRateRole;
            break;
        case PacketLossColumn:
            role = PacketLossRole;
            break;
        case RttColumn:
            role = RttP95Role;
            break;
        case QueueColumn:
            role = QueueDepthRole;
            break;
        case ColumnCount:
            return {};
        }
    }
    const WorkerCounts &c = region.workersByState;
    switch (role) {
    case IdRole:
        return region.id;
    case NameRole:
        return region.name;
    case ProviderRole:
        return region.provider;
    case LocationRole:
        return region.location;
    case DispatchStateRole:
        return int(region.dispatchState);
    case DispatchReasonRole:
        return region.dispatchReason;
    case IdleWorkersRole:
        return c[int(WorkerState::Idle)];
    case BusyWorkersRole:
        return c[int(WorkerState::Busy)];
    case OfflineWorkersRole:
        return c[int(WorkerState::Offline)];
    case ProvisioningWorkersRole:
        return c[int(WorkerState::Provisioning)];
    case DrainingWorkersRole:
        return c[int(WorkerState::Draining)];
    case LiveWorkersRole: {
        int live = 0;
        for (int s = 0; s < kWorkerStateCount; ++s)
            live += s == int(WorkerState::Terminated) ? 0 : c[s];
        return live;
    }
    case SuccessRateRole:
        return stats.successRate();
    case TimeoutsPerMinuteRole:
        return stats.failuresPerMinute(FailureReason::ETimedOut);
    case FailuresPerMinuteRole: {
        QVariantMap m;
        for (int f = 0; f < kFailureReasonCount; ++f)
            m.insert(wireName(FailureReason(f)).toString(), stats.failuresPerMinute(FailureReason(f)));
        return m;
    }
    case PacketLossRole:
        return stats.samples ? stats.packetLoss : region.packetLoss;
    case RttP95Role:
        return stats.samples ? stats.rttP95Ms : region.rttP95Ms;
    case QueueDepthRole:
        return stats.queueDepth;
    case WaitP95Role:
        return stats.waitP95Seconds;
    case VerdictRole:
        return int(verdict);
    case VerdictReasonRole:
        return m_monitor->reason(region.id);
    case SeverityRole:
        return severity(verdict);
    case ServerNotesRole: {
        QStringList notes;
        for (auto it = region.unknown.cbegin(); it != region.unknown.cend(); ++it)
            notes << it.key() + QStringLiteral(": ") + it.value().left(200);
        return notes.join(u'\n');
    }
    default:
        return {};
    }
}

QVariant RegionModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (Column(section)) {
    case RegionColumn:
        return tr("Region");
    case VerdictColumn:
        return tr("Health");
    case ReasonColumn:
        return tr("Why");
    case DispatchColumn:
        return tr("Dispatch");
    case WorkersColumn:
        return tr("Workers");
    case SuccessColumn:
        return tr("Success");
    case PacketLossColumn:
        return tr("Loss");
    case RttColumn:
        return tr("RTT p95");
    case QueueColumn:
        return tr("Queue");
    case ColumnCount:
        break;
    }
    return {};
}

} // namespace fleet
