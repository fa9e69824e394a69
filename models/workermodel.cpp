#include "workermodel.h"

#include <algorithm>

#include "fleetstore.h"

namespace fleet {

WorkerModel::WorkerModel(FleetStore *store, QObject *parent)
    : EntityTableModel(ColumnCount, parent)
    , m_store(store)
{
    follow(store->workerTable());
}

int WorkerModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() || !m_store ? 0 : int(m_store->workers().size());
}

QVariant WorkerModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid) || !m_store)
        return {};
    const Worker &w = m_store->workers()[std::size_t(index.row())];
    if (role == Qt::DisplayRole || role == Qt::EditRole) {
        switch (Column(index.column())) {
        case IdColumn:
            role = IdRole;
            break;
        case NameColumn:
            role = NameRole;
            break;
        case RegionColumn:
            role = RegionRole;
            break;
        case ArchColumn:
            return w.arch == Arch::Unknown ? w.unknown.value(QStringLiteral("arch")) : wireName(w.arch).toString();
        case StateColumn:
            return w.state == WorkerState::Unknown ? w.unknown.value(QStringLiteral("state"))
                                                   : wireName(w.state).toString();
        case BuildColumn:
            role = CurrentBuildRole;
            break;
        case RttColumn:
            role = RttMsRole;
            break;
        case PacketLossColumn:
            role = PacketLossRole;
            break;
        case FailuresColumn:
            role = RecentFailuresRole;
            break;
        case HeartbeatColumn:
            role = LastHeartbeatRole;
            break;
        case VersionColumn:
            role = VersionRole;
            break;
        case StartedColumn:
            role = StartedAtRole;
            break;
        case ColumnCount:
            return {};
        }
    }
    switch (role) {
    case IdRole:
        return w.id;
    case NameRole:
        return w.name;
    case RegionRole:
        return w.region;
    case ArchRole:
        return int(w.arch);
    case StateRole:
        return int(w.state);
    case CurrentBuildRole:
        return w.currentBuild;
    case RttMsRole:
        return w.rttMs;
    case PacketLossRole:
        return w.packetLoss;
    case RecentFailuresRole: {
        int total = 0;
        for (int n : w.recentFailures)
            total += n;
        return total;
    }
    case RecentTimeoutsRole:
        return w.recentFailures[int(FailureReason::ETimedOut)];
    case LastHeartbeatRole:
        return w.lastHeartbeatAt;
    case TelemetryAgeRole:
        return w.lastHeartbeatAt > 0 ? std::max<qint64>(0, m_store->fleetNowMs() - w.lastHeartbeatAt) : qint64(-1);
    case StartedAtRole:
        return w.startedAt;
    case VersionRole:
        return w.version;
    case OfflineReasonRole:
        return w.offlineReason;
    case OperationRole:
        return w.operation;
    case UnknownValuesRole: {
        QStringList parts;
        for (auto it = w.unknown.cbegin(); it != w.unknown.cend(); ++it)
            parts << it.key() + QStringLiteral(": ") + it.value();
        return parts.join(QLatin1String("; "));
    }
    default:
        return {};
    }
}

QVariant WorkerModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::ToolTipRole) {
        const Column c = Column(section);
        if (c == RttColumn || c == PacketLossColumn || c == FailuresColumn || c == HeartbeatColumn)
            return tr("As of the worker's last heartbeat the fleet sent (with its state changes and snapshots); "
                      "shown in italics when older than %1 s")
                .arg(kOldTelemetryMs / 1000);
        return {};
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (Column(section)) {
    case IdColumn:
        return tr("Worker");
    case NameColumn:
        return tr("Name");
    case RegionColumn:
        return tr("Region");
    case ArchColumn:
        return tr("Arch");
    case StateColumn:
        return tr("State");
    case BuildColumn:
        return tr("Build");
    case RttColumn:
        return tr("RTT");
    case PacketLossColumn:
        return tr("Loss");
    case FailuresColumn:
        return tr("Failures (15 min)");
    case HeartbeatColumn:
        return tr("Last heartbeat");
    case VersionColumn:
        return tr("Version");
    case StartedColumn:
        return tr("Started");
    case ColumnCount:
        break;
    }
    return {};
}

QHash<int, QByteArray> WorkerModel::roleNames() const
{
    QHash<int, QByteArray> names = QAbstractTableModel::roleNames();
    names.insert(IdRole, "workerId");
    names.insert(StateRole, "state");
    names.insert(RegionRole, "region");
    return names;
}

const Worker *WorkerModel::worker(int row) const
{
    if (!m_store || row < 0 || row >= int(m_store->workers().size()))
        return nullptr;
    return &m_store->workers()[std::size_t(row)];
}

WorkerFilterModel::WorkerFilterModel(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    setDynamicSortFilter(false);
    m_refresh.setObjectName(QStringLiteral("WorkerModel refresh"));
    m_refresh.setSingleShot(true);
    m_refresh.setInterval(2000);
    connect(&m_refresh, &QTimer::timeout, this, &WorkerFilterModel::refreshNow);
}

void WorkerFilterModel::setSourceModel(QAbstractItemModel *source)
{
    if (sourceModel())
        disconnect(sourceModel(), nullptr, this, nullptr);
    QSortFilterProxyModel::setSourceModel(source);
    m_workers = qobject_cast<WorkerModel *>(source);
    if (source) {
        connect(source, &QAbstractItemModel::dataChanged, this, [this] {
            // Only what can change live needs a refresh: worker ids, names, regions, arches, versions and start
            // times do not, so a table sorted and filtered by those is left alone.
            const int column = sortColumn();
            const bool sortedByLiveData = column >= 0 && column != WorkerModel::IdColumn
                && column != WorkerModel::NameColumn && column != WorkerModel::RegionColumn
                && column != WorkerModel::ArchColumn && column != WorkerModel::VersionColumn
                && column != WorkerModel::StartedColumn;
            const bool filteredByLiveData = m_state >= 0 || !m_text.isEmpty();
            if ((sortedByLiveData || filteredByLiveData) && !m_refresh.isActive())
                m_refresh.start();
        });
    }
}

void WorkerFilterModel::refreshNow()
{
    m_refresh.stop();
    invalidate(); // re-filter and re-sort with the current data
}

void WorkerFilterModel::setRegion(const QString &region)
{
    m_region = region;
    refreshNow();
}

void WorkerFilterModel::setState(int state)
{
    m_state = state;
    refreshNow();
}

void WorkerFilterModel::setArch(int arch)
{
    m_arch = arch;
    refreshNow();
}

void WorkerFilterModel::setText(const QString &text)
{
    m_text = text.trimmed();
    refreshNow();
}

bool WorkerFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (const Worker *w = m_workers ? m_workers->worker(sourceRow) : nullptr) {
        // The worker table's case: read the fields directly. Filtering 50,000 rows through QVariant costs tens of
        // milliseconds; this costs a few.
        if (!m_region.isEmpty() && w->region != m_region)
            return false;
        if (m_state >= 0 && int(w->state) != m_state)
            return false;
        if (m_arch >= 0 && int(w->arch) != m_arch)
            return false;
        return m_text.isEmpty() || w->id.contains(m_text, Qt::CaseInsensitive)
            || w->name.contains(m_text, Qt::CaseInsensitive) || w->currentBuild.contains(m_text, Qt::CaseInsensitive);
    }
    const QModelIndex i = sourceModel()->index(sourceRow, 0, sourceParent);
    if (!m_region.isEmpty() && i.data(WorkerModel::RegionRole).toString() != m_region)
        return false;
    if (m_state >= 0 && i.data(WorkerModel::StateRole).toInt() != m_state)
        return false;
    if (m_arch >= 0 && i.data(WorkerModel::ArchRole).toInt() != m_arch)
        return false;
    if (!m_text.isEmpty()) {
        for (int role : { int(WorkerModel::IdRole), int(WorkerModel::NameRole), int(WorkerModel::CurrentBuildRole) }) {
            if (i.data(role).toString().contains(m_text, Qt::CaseInsensitive))
                return true;
        }
        return false;
    }
    return true;
}

namespace {

// The order WorkerModel's DisplayRole gives, computed on the fields: strings case-insensitively, enums by their
// wire names (as displayed), numbers as numbers. -1, 0 or 1.
int compareWorkers(const Worker &a, const Worker &b, int column)
{
    auto text = [](const QString &x, const QString &y) { return QString::compare(x, y, Qt::CaseInsensitive); };
    auto number = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
    auto failures = [](const Worker &w) {
        int total = 0;
        for (int n : w.recentFailures)
            total += n;
        return total;
    };
    switch (WorkerModel::Column(column)) {
    case WorkerModel::IdColumn:
        return text(a.id, b.id);
    case WorkerModel::NameColumn:
        return text(a.name, b.name);
    case WorkerModel::RegionColumn:
        return text(a.region, b.region);
    case WorkerModel::ArchColumn:
        return QStringView(wireName(a.arch)).compare(wireName(b.arch), Qt::CaseInsensitive);
    case WorkerModel::StateColumn:
        return QStringView(wireName(a.state)).compare(wireName(b.state), Qt::CaseInsensitive);
    case WorkerModel::BuildColumn:
        return text(a.currentBuild, b.currentBuild);
    case WorkerModel::RttColumn:
        return number(a.rttMs, b.rttMs);
    case WorkerModel::PacketLossColumn:
        return number(a.packetLoss, b.packetLoss);
    case WorkerModel::FailuresColumn:
        return number(failures(a), failures(b));
    case WorkerModel::HeartbeatColumn:
        return number(a.lastHeartbeatAt, b.lastHeartbeatAt);
    case WorkerModel::VersionColumn:
        return text(a.version, b.version);
    case WorkerModel::StartedColumn:
        return number(a.startedAt, b.startedAt);
    case WorkerModel::ColumnCount:
        break;
    }
    return 0;
}

} // namespace

bool WorkerFilterModel::lessThan(const QModelIndex &left, const QModelIndex &right) const
{
    const Worker *a = m_workers ? m_workers->worker(left.row()) : nullptr;
    const Worker *b = m_workers ? m_workers->worker(right.row()) : nullptr;
    if (a && b && a->state != WorkerState::Unknown && b->state != WorkerState::Unknown && a->arch != Arch::Unknown
        && b->arch != Arch::Unknown) {
        const int c = compareWorkers(*a, *b, left.column());
        return c != 0 ? c < 0 : QString::compare(a->id, b->id) < 0; // ties in id order: a stable, predictable table
    }
    const QVariant x = left.data(Qt::DisplayRole);
    const QVariant y = right.data(Qt::DisplayRole);
    if (x.typeId() == QMetaType::QString)
        return QString::compare(x.toString(), y.toString(), Qt::CaseInsensitive) < 0;
    return QVariant::compare(x, y) == QPartialOrdering::Less;
}

} // namespace fleet
