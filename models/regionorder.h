#pragma once

#include <QSortFilterProxyModel>
#include <QStringList>

namespace fleet {

class RegionModel;

// The one "worst first" of a session (FleetSession::regionOrder): down, degraded, no data, healthy; within a verdict
// by name as people read it (locale-aware), then by id, so two regions never tie. The overview's tiles, the war-room
// wall and the tray read it instead of sorting on their own (they disagreed on ties: issue #22).
class RegionOrder : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    explicit RegionOrder(RegionModel *regions, QObject *parent = nullptr);

    QStringList ids() const; // region ids, worst first

protected:
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;
};

} // namespace fleet
