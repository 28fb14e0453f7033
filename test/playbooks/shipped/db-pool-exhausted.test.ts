import { shippedPlaybookTests } from '../shipped-playbook-tests.ts';

shippedPlaybookTests('db-pool-exhausted.test.yaml');
