import { shippedPlaybookTests } from '../shipped-playbook-tests.ts';

shippedPlaybookTests('config-repair.test.yaml');
