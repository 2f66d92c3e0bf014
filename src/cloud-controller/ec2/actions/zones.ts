/**
 * DescribeAvailabilityZones (issue 15): each registered cluster is a zone,
 * as Eucalyptus presented them, always `available`, in the region the
 * request was signed for (edgenet has one region, named by whatever the
 * client's credential scope says).
 */
import { UserError } from '../../../shared/errors.ts';
import type { ClusterView } from '../../services/clusters.ts';
import type { Ec2Action } from '../contract.ts';
import { applyFilters, type FilterTable } from '../filters.ts';
import { FILTER_PARAMS, filtersOf, listParam } from '../params.ts';

const AVAILABLE = 'available';

function zoneFilters(region: string): FilterTable<ClusterView> {
  return {
    'zone-name': (c) => c.name,
    state: () => AVAILABLE,
    'region-name': () => region,
  };
}

const describeAvailabilityZones: Ec2Action = {
  name: 'DescribeAvailabilityZones',
  params: ['ZoneName.N', ...FILTER_PARAMS],
  async handle(req, { state }) {
    const filters = filtersOf(req.params);
    const names = listParam(req.params, 'ZoneName');
    let clusters = await state.listClusters();
    if (names.length > 0) {
      const unknown = names.filter((n) => !clusters.some((c) => c.name === n));
      if (unknown.length > 0) throw new UserError('InvalidParameterValue', `Invalid availability zone: [${unknown.join(', ')}]`);
      clusters = clusters.filter((c) => names.includes(c.name));
    }
    return {
      availabilityZoneInfo: applyFilters(clusters, filters, zoneFilters(req.region)).map((c) => ({
        zoneName: c.name,
        zoneState: AVAILABLE,
        regionName: req.region,
        messageSet: [],
      })),
    };
  },
};

export const ZONE_ACTIONS: readonly Ec2Action[] = [describeAvailabilityZones];
