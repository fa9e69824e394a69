#include "regionmodel.h"

#include "fleetstore.h"

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

RegionModel::RegionModel(FleetStore *store, QObject *parent)
    : QAbstractTableModel(parent)
    , m_store(store)
{
    connect(store, &FleetStore::regionsAboutToBeReset, this, [this] { beginResetModel(); });
    connect(store, &FleetStore::regionsReset, this, [this] {
        rebuildRows();
        endResetModel();
    });
    connect(store, &FleetStore::regionsChanged, this, [this](const FleetStore::Ranges &ranges) {
        for (const auto &[first, last] : ranges)
            Q_EMIT dataChanged(index(first, 0), index(last, ColumnCount - 1));
    });
    connect(store, &FleetStore::healthChanged, this, &RegionModel::evaluate);
    rebuildRows();
}

void RegionModel::setThresholds(const VerdictThresholds &thresholds)
{
    m_thresholds = thresholds;
    for (Row &row : m_rows)
        row.tracker.setThresholds(thresholds);
    evaluate();
}

void RegionModel::rebuildRows()
{
    m_rows.clear();
    if (!m_store)
        return;
    m_rows.resize(m_store->regions().size(), Row { {}, VerdictTracker(m_thresholds) });
    if (m_store->history().latestSecond() > 0) {
        for (std::size_t r = 0; r < m_rows.size(); ++r) {
            const int h = m_store->history().regionIndex(m_store->regions()[r].id);
            m_rows[r].stats = RegionStats::fromHistory(
                m_store->history(), h, m_store->history().latestSecond(), m_thresholds.windowSeconds);
            m_rows[r].tracker.update(m_rows[r].stats, m_store->history().latestSecond());
        }
    }
}

void RegionModel::evaluate()
{
    if (!m_store)
        return;
    const qint64 now = m_store->history().latestSecond();
    int first = -1;
    int last = -1;
    for (std::size_t r = 0; r < m_rows.size(); ++r) {
        const int h = m_store->history().regionIndex(m_store->regions()[r].id);
        m_rows[r].stats = RegionStats::fromHistory(m_store->history(), h, now, m_thresholds.windowSeconds);
        m_rows[r].tracker.update(m_rows[r].stats, now);
        // Stats move every second: every row's numbers changed, so one block covers them all.
        if (first < 0)
            first = int(r);
        last = int(r);
    }
    if (first >= 0)
        Q_EMIT dataChanged(index(first, 0), index(last, ColumnCount - 1));
}

int RegionModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int RegionModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RegionModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid) || !m_store)
        return {};
    const Region &region = m_store->regions()[std::size_t(index.row())];
    const Row &row = m_rows[std::size_t(index.row())];
    if (role == Qt::DisplayRole) {
        switch (Column(index.column())) {
        case RegionColumn:
            role = NameRole;
            break;
        case VerdictColumn:
            return wireName(row.tracker.verdict());
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
        return row.stats.successRate();
    case TimeoutsPerMinuteRole:
        return row.stats.failuresPerMinute(FailureReason::ETimedOut);
    case FailuresPerMinuteRole: {
        QVariantMap m;
        for (int f = 0; f < kFailureReasonCount; ++f)
            m.insert(wireName(FailureReason(f)).toString(), row.stats.failuresPerMinute(FailureReason(f)));
        return m;
    }
    case PacketLossRole:
        return row.stats.samples ? row.stats.packetLoss : region.packetLoss;
    case RttP95Role:
        return row.stats.samples ? row.stats.rttP95Ms : region.rttP95Ms;
    case QueueDepthRole:
        return row.stats.queueDepth;
    case WaitP95Role:
        return row.stats.waitP95Seconds;
    case VerdictRole:
        return int(row.tracker.verdict());
    case VerdictReasonRole:
        return row.tracker.reason();
    case SeverityRole:
        return severity(row.tracker.verdict());
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
