#pragma once

#include "entitytable.h"

#include <QAbstractTableModel>
#include <QPointer>
#include <QSortFilterProxyModel>
#include <QTimer>

#include "fleettypes.h"

namespace fleet {

class FleetStore;

// One row per worker of a FleetStore, updated in place: one dataChanged per contiguous block of changed rows per
// frame, insertions and removals in ranges, a reset only for the first load. Raw values under roles (formatting
// is the widgets' job): DisplayRole gives each column's raw value, the custom roles give typed fields.
class WorkerModel : public EntityTableModel
{
    Q_OBJECT

public:
    enum Column {
        IdColumn,
        NameColumn,
        RegionColumn,
        ArchColumn,
        StateColumn,
        BuildColumn,
        RttColumn,
        PacketLossColumn,
        FailuresColumn,
        HeartbeatColumn,
        VersionColumn,
        StartedColumn,
        ColumnCount
    };
    static constexpr qint64 kOldTelemetryMs = 90 * 1000; // past this a row's figures are marked as old
    enum Role {
        IdRole = Qt::UserRole + 1,
        NameRole,
        RegionRole,
        ArchRole, // int: fleet::Arch
        StateRole, // int: fleet::WorkerState
        CurrentBuildRole,
        RttMsRole,
        PacketLossRole,
        RecentFailuresRole, // int: all reasons
        RecentTimeoutsRole, // int: ETIMEDOUT
        LastHeartbeatRole, // qint64 ms since epoch
        // qint64: how old the row's figures (RTT, loss, failures) are on the fleet's clock, in ms. The fleet sends a
        // worker's telemetry with its state changes and snapshots only, so a quiet worker's figures age.
        TelemetryAgeRole,
        StartedAtRole,
        VersionRole,
        OfflineReasonRole,
        OperationRole,
        UnknownValuesRole, // QString: "state: hibernating; ..." for values this client does not know
    };

    explicit WorkerModel(FleetStore *store, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    // The worker behind a row, for proxies that compare fields directly instead of through QVariant.
    const Worker *worker(int row) const;

private:
    QPointer<FleetStore> m_store;
};

// Filters workers by region, state, arch and text (id, name, build), and sorts them. It does not re-sort or
// re-filter on every change, which would cost a full pass over 50,000 rows many times a second: it does so on a
// slow timer (every 2 s while changes arrive) and at once when the filter itself changes.
class WorkerFilterModel : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    explicit WorkerFilterModel(QObject *parent = nullptr);

    void setSourceModel(QAbstractItemModel *source) override;
    void setRegion(const QString &region);
    void setState(int state); // -1: any
    void setArch(int arch); // -1: any
    void setText(const QString &text);
    void setRefreshInterval(int ms) { m_refresh.setInterval(ms); }
    void refreshNow();

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;

private:
    QString m_region;
    int m_state = -1;
    int m_arch = -1;
    QString m_text;
    QTimer m_refresh;
    QPointer<WorkerModel> m_workers; // the source, when it is a WorkerModel: fields compared without QVariant
};

} // namespace fleet
