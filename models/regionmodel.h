#pragma once

#include "healthverdict.h"

#include <QAbstractTableModel>
#include <QPointer>

#include <vector>

namespace fleet {

class FleetStore;

// One row per region: dispatch state, workers by state, build success rate, failures per minute by reason, packet
// loss, RTT p95, queue depth and wait, and a health verdict with its reason in words ("packet loss 31%,
// ETIMEDOUT 42/min"), judged over the last minute of history with hysteresis and a hold time.
class RegionModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column {
        RegionColumn,
        VerdictColumn,
        ReasonColumn,
        DispatchColumn,
        WorkersColumn,
        SuccessColumn,
        PacketLossColumn,
        RttColumn,
        QueueColumn,
        ColumnCount
    };
    enum Role {
        IdRole = Qt::UserRole + 1,
        NameRole,
        ProviderRole,
        LocationRole,
        DispatchStateRole, // int: fleet::DispatchState
        DispatchReasonRole,
        IdleWorkersRole,
        BusyWorkersRole,
        OfflineWorkersRole,
        ProvisioningWorkersRole,
        DrainingWorkersRole,
        LiveWorkersRole, // all but terminated
        SuccessRateRole, // double 0..1, NaN with no finished builds in the window
        TimeoutsPerMinuteRole,
        FailuresPerMinuteRole, // QVariantMap reason -> per minute
        PacketLossRole, // mean over the window
        RttP95Role,
        QueueDepthRole,
        WaitP95Role,
        VerdictRole, // int: fleet::Verdict
        VerdictReasonRole,
        SeverityRole, // 3 down, 2 degraded, 1 no data, 0 healthy: sort descending for "worst first"
    };

    explicit RegionModel(FleetStore *store, QObject *parent = nullptr);

    void setThresholds(const VerdictThresholds &thresholds);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // Re-judges every region at the history's newest second; emits dataChanged for the rows that changed.
    void evaluate();

private:
    struct Row
    {
        RegionStats stats;
        VerdictTracker tracker;
    };

    void rebuildRows();

    QPointer<FleetStore> m_store;
    VerdictThresholds m_thresholds;
    std::vector<Row> m_rows;
};

} // namespace fleet
