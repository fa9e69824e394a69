#include "regionorder.h"

#include "regionmodel.h"

namespace fleet {

RegionOrder::RegionOrder(RegionModel *regions, QObject *parent)
    : QSortFilterProxyModel(parent)
{
    setSourceModel(regions);
    setDynamicSortFilter(true);
    sort(0);
}

QStringList RegionOrder::ids() const
{
    QStringList out;
    out.reserve(rowCount());
    for (int row = 0; row < rowCount(); ++row)
        out << index(row, 0).data(RegionModel::IdRole).toString();
    return out;
}

bool RegionOrder::lessThan(const QModelIndex &l, const QModelIndex &r) const
{
    const int sl = l.data(RegionModel::SeverityRole).toInt();
    const int sr = r.data(RegionModel::SeverityRole).toInt();
    if (sl != sr)
        return sl > sr;
    if (const int byName = QString::localeAwareCompare(
            l.data(RegionModel::NameRole).toString(), r.data(RegionModel::NameRole).toString());
        byName != 0)
        return byName < 0;
    return l.data(RegionModel::IdRole).toString() < r.data(RegionModel::IdRole).toString();
}

} // namespace fleet
