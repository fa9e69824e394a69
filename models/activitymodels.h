#pragma once

#include "entitytable.h"

#include <QAbstractTableModel>
#include <QPointer>

namespace fleet {

class FleetStore;

// Operations in flight and done, whoever started them, in the order they were created.
class OperationModel : public EntityTableModel
{
    Q_OBJECT

public:
    enum Column {
        IdColumn,
        TypeColumn,
        StateColumn,
        TargetColumn,
        ProgressColumn,
        RequestedByColumn,
        ReasonColumn,
        CreatedColumn,
        ExpiresColumn,
        ColumnCount
    };
    enum Role {
        IdRole = Qt::UserRole + 1,
        TypeRole,
        StateRole,
        RegionRole,
        WorkerRole,
        ProgressDoneRole,
        ProgressTotalRole,
        RequestedByRole,
        ReasonRole,
        CreatedAtRole,
        FinishedAtRole,
        ExpiresAtRole,
        MessageRole
    };

    explicit OperationModel(FleetStore *store, QObject *parent = nullptr);
    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QPointer<FleetStore> m_store;
};

// The audit log as received live (bounded by the store): who did what, when, why, with what result.
class AuditModel : public EntityTableModel
{
    Q_OBJECT

public:
    enum Column { TimeColumn, ActorColumn, ActionColumn, TargetColumn, ResultColumn, ReasonColumn, ColumnCount };
    enum Role {
        IdRole = Qt::UserRole + 1,
        TimeRole,
        ActorRole,
        RoleRole,
        ActionRole,
        TargetRole,
        ResultRole,
        ReasonRole,
        DetailRole,
        OperationRole
    };

    explicit AuditModel(FleetStore *store, QObject *parent = nullptr);
    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QPointer<FleetStore> m_store;
};

} // namespace fleet
