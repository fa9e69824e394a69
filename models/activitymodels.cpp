#include "activitymodels.h"

#include <QDateTime>

#include "fleetstore.h"

namespace fleet {

OperationModel::OperationModel(FleetStore *store, QObject *parent)
    : EntityTableModel(ColumnCount, parent)
    , m_store(store)
{
    follow(store->operationTable());
}

namespace {

QString utcTime(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(QStringLiteral("MM-dd HH:mm:ss"));
}

} // namespace

int OperationModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() || !m_store ? 0 : int(m_store->operations().size());
}

QVariant OperationModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid) || !m_store)
        return {};
    const Operation &op = m_store->operations()[std::size_t(index.row())];
    if (role == Qt::DisplayRole) {
        switch (Column(index.column())) {
        case IdColumn:
            return op.id;
        case TypeColumn:
            return wireName(op.type).toString();
        case StateColumn:
            return wireName(op.state).toString();
        case TargetColumn:
            return op.worker.isEmpty() ? op.region : op.worker;
        case ProgressColumn:
            return op.progressTotal > 0 ? tr("%1 of %2").arg(op.progressDone).arg(op.progressTotal) : QString();
        case RequestedByColumn:
            return op.requestedBy;
        case ReasonColumn:
            return op.reason;
        case CreatedColumn:
            return utcTime(op.createdAt);
        case ExpiresColumn:
            return op.expiresAt > 0 ? utcTime(op.expiresAt) : QString();
        case ColumnCount:
            return {};
        }
    }
    if (role == Qt::ToolTipRole) {
        // The whole story of the operation, for a cell too narrow to show it.
        QString tip
            = QStringLiteral("%1 %2 (%3) by %4: %5")
                  .arg(op.id, wireName(op.type).toString(), wireName(op.state).toString(), op.requestedBy, op.reason);
        if (!op.message.isEmpty())
            tip += QStringLiteral("\n") + op.message;
        return tip;
    }
    switch (role) {
    case IdRole:
        return op.id;
    case TypeRole:
        return int(op.type);
    case StateRole:
        return int(op.state);
    case RegionRole:
        return op.region;
    case WorkerRole:
        return op.worker;
    case ProgressDoneRole:
        return op.progressDone;
    case ProgressTotalRole:
        return op.progressTotal;
    case RequestedByRole:
        return op.requestedBy;
    case ReasonRole:
        return op.reason;
    case CreatedAtRole:
        return op.createdAt;
    case FinishedAtRole:
        return op.finishedAt;
    case ExpiresAtRole:
        return op.expiresAt;
    case MessageRole:
        return op.message;
    default:
        return {};
    }
}

QVariant OperationModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (Column(section)) {
    case IdColumn:
        return tr("Operation");
    case TypeColumn:
        return tr("Action");
    case StateColumn:
        return tr("State");
    case TargetColumn:
        return tr("Target");
    case ProgressColumn:
        return tr("Progress");
    case RequestedByColumn:
        return tr("By");
    case ReasonColumn:
        return tr("Why");
    case CreatedColumn:
        return tr("Started (UTC)");
    case ExpiresColumn:
        return tr("Retires / ends (UTC)");
    case ColumnCount:
        break;
    }
    return {};
}

AuditModel::AuditModel(FleetStore *store, QObject *parent)
    : EntityTableModel(ColumnCount, parent)
    , m_store(store)
{
    follow(store->auditTable());
}

int AuditModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() || !m_store ? 0 : int(m_store->audit().size());
}

QVariant AuditModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid) || !m_store)
        return {};
    const AuditEntry &e = m_store->audit()[std::size_t(index.row())];
    if (role == Qt::DisplayRole) {
        switch (Column(index.column())) {
        case TimeColumn:
            return e.time;
        case ActorColumn:
            return e.actor;
        case ActionColumn:
            return e.action;
        case TargetColumn:
            return e.target;
        case ResultColumn:
            return e.result;
        case ReasonColumn:
            return e.reason;
        case ColumnCount:
            return {};
        }
    }
    switch (role) {
    case IdRole:
        return e.id;
    case TimeRole:
        return e.time;
    case ActorRole:
        return e.actor;
    case RoleRole:
        return int(e.role);
    case ActionRole:
        return e.action;
    case TargetRole:
        return e.target;
    case ResultRole:
        return e.result;
    case ReasonRole:
        return e.reason;
    case DetailRole:
        return e.detail;
    case OperationRole:
        return e.operation;
    default:
        return {};
    }
}

QVariant AuditModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (Column(section)) {
    case TimeColumn:
        return tr("Time (UTC)");
    case ActorColumn:
        return tr("Who");
    case ActionColumn:
        return tr("Did");
    case TargetColumn:
        return tr("To");
    case ResultColumn:
        return tr("Result");
    case ReasonColumn:
        return tr("Why");
    case ColumnCount:
        break;
    }
    return {};
}

} // namespace fleet
