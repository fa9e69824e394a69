#include "entitytable.h"

#include <algorithm>

namespace fleet {

void EntityTable::endReset()
{
    m_dirty.clear(); // rows marked before the reset do not exist any more
    m_isDirty.clear();
    Q_EMIT reset();
}

void EntityTable::beginRemove(int first, int last)
{
    flushChanges();
    m_isDirty.clear(); // all zero after the flush; sized again by the next mark
    Q_EMIT aboutToBeRemoved(first, last);
}

void EntityTable::mark(int row)
{
    if (row < 0)
        return;
    if (std::size_t(row) >= m_isDirty.size())
        m_isDirty.resize(std::size_t(row) + 1, 0);
    if (m_isDirty[std::size_t(row)])
        return;
    m_isDirty[std::size_t(row)] = 1;
    m_dirty.push_back(row);
}

EntityTable::Ranges EntityTable::takeChanges()
{
    Ranges out;
    if (m_dirty.empty())
        return out;
    std::sort(m_dirty.begin(), m_dirty.end());
    for (int row : m_dirty) {
        m_isDirty[std::size_t(row)] = 0;
        if (!out.empty() && out.back().second + 1 == row)
            out.back().second = row;
        else
            out.emplace_back(row, row);
    }
    m_dirty.clear();
    return out;
}

bool EntityTable::flushChanges()
{
    if (m_dirty.empty())
        return false;
    const Ranges r = takeChanges();
    Q_EMIT changed(r);
    return true;
}

EntityTableModel::EntityTableModel(int columns, QObject *parent)
    : QAbstractTableModel(parent)
    , m_columns(columns)
{
}

void EntityTableModel::follow(EntityTable *table)
{
    connect(table, &EntityTable::aboutToBeReset, this, [this] { beginResetModel(); });
    connect(table, &EntityTable::reset, this, [this] { endResetModel(); });
    connect(table, &EntityTable::aboutToBeInserted, this,
        [this](int first, int last) { beginInsertRows({}, first, last); });
    connect(table, &EntityTable::inserted, this, [this] { endInsertRows(); });
    connect(
        table, &EntityTable::aboutToBeRemoved, this, [this](int first, int last) { beginRemoveRows({}, first, last); });
    connect(table, &EntityTable::removed, this, [this] { endRemoveRows(); });
    connect(table, &EntityTable::changed, this, [this](const EntityTable::Ranges &ranges) {
        for (const auto &[first, last] : ranges)
            Q_EMIT dataChanged(index(first, 0), index(last, m_columns - 1));
    });
}

} // namespace fleet
