import { shippedPlaybookTests } from '../shipped-playbook-tests.ts';

shippedPlaybookTests('service-down.test.yaml');
