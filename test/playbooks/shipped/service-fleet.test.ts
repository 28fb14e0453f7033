import { shippedPlaybookTests } from '../shipped-playbook-tests.ts';

shippedPlaybookTests('service-fleet.test.yaml');
